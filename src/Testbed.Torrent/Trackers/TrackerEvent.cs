namespace Testbed.Torrent.Trackers;

/// <summary>
/// The `event` of an announce (BEP 3), for the client that sends it and the tracker that reads it; the numeric values are
/// BEP 15's UDP encoding, <see cref="TrackerEventNames"/> the HTTP text forms.
/// </summary>
public enum TrackerEvent
{
    /// <summary>A regular periodic announce (no event, empty, or BEP 21's `paused`).</summary>
    None = 0,

    /// <summary>The download completed.</summary>
    Completed = 1,

    /// <summary>The first announce of a session: the peer joins the swarm.</summary>
    Started = 2,

    /// <summary>The client is leaving the swarm.</summary>
    Stopped = 3,
}

/// <summary>The wire forms of <see cref="TrackerEvent"/>: HTTP query text (BEP 3) and UDP codes (BEP 15), in one place.</summary>
public static class TrackerEventNames
{
    /// <summary>The HTTP query value ("started", "completed", "stopped"), or null for a regular announce; also used as the span attribute.</summary>
    public static string? ToQueryValue(this TrackerEvent trackerEvent) => trackerEvent switch
    {
        TrackerEvent.Started => "started",
        TrackerEvent.Completed => "completed",
        TrackerEvent.Stopped => "stopped",
        _ => null,
    };

    /// <summary>Reads an HTTP `event` value; empty, "empty" and BEP 21's "paused" are regular announces, anything else unknown is refused.</summary>
    public static bool TryParseQueryValue(ReadOnlySpan<char> value, out TrackerEvent trackerEvent)
    {
        TrackerEvent? parsed = value switch
        {
            "" or "paused" or "empty" => TrackerEvent.None,
            "started" => TrackerEvent.Started,
            "completed" => TrackerEvent.Completed,
            "stopped" => TrackerEvent.Stopped,
            _ => null,
        };
        trackerEvent = parsed ?? TrackerEvent.None;
        return parsed is not null;
    }

    /// <summary>The BEP 15 UDP code of the event.</summary>
    public static int ToUdpCode(this TrackerEvent trackerEvent) => (int)trackerEvent;

    /// <summary>Reads a BEP 15 UDP event code (0 to 3); any other is refused.</summary>
    public static bool TryFromUdpCode(int code, out TrackerEvent trackerEvent)
    {
        trackerEvent = code is >= 0 and <= 3 ? (TrackerEvent)code : TrackerEvent.None;
        return code is >= 0 and <= 3;
    }
}
