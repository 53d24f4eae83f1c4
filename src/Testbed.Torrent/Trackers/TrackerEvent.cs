namespace Testbed.Torrent.Trackers;

/// <summary>The `event` of an announce (BEP 3); the numeric values are BEP 15's UDP encoding.</summary>
public enum TrackerEvent
{
    /// <summary>A regular periodic announce.</summary>
    None = 0,

    /// <summary>The download completed.</summary>
    Completed = 1,

    /// <summary>The first announce of a session.</summary>
    Started = 2,

    /// <summary>The client is leaving the swarm.</summary>
    Stopped = 3,
}

/// <summary>Text forms of <see cref="TrackerEvent"/>.</summary>
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
}
