using System.Diagnostics;
using Testbed.Tracker.Swarms;
using Testbed.Tracker.Telemetry;
using Testbed.Torrent.Metainfo;

namespace Testbed.Tracker.Announces;

/// <summary>
/// Applies announces and scrapes from either transport to the swarm store, with the tracker's
/// policy (numwant bounds, whether a claimed `ip` is trusted) and its telemetry.
/// </summary>
public sealed partial class AnnounceService
{
    private static readonly KeyValuePair<string, object?> HttpTag = new("tracker.transport", "http");
    private static readonly KeyValuePair<string, object?> UdpTag = new("tracker.transport", "udp");
    private static readonly KeyValuePair<string, object?>[] EventTags =
    [
        new("torrent.event", "none"),
        new("torrent.event", "completed"),
        new("torrent.event", "started"),
        new("torrent.event", "stopped"),
    ];

    private readonly ILogger _logger;

    /// <summary>Creates the service over a store.</summary>
    public AnnounceService(SwarmStore store, AnnouncePolicy policy, ILogger<AnnounceService> logger)
    {
        Store = store;
        Policy = policy;
        _logger = logger;
    }

    /// <summary>The swarms.</summary>
    public SwarmStore Store { get; }

    /// <summary>Intervals and bounds.</summary>
    public AnnouncePolicy Policy { get; }

    /// <summary>
    /// Serves one announce from <paramref name="connectionAddress"/> and writes the peers to hand
    /// out into <paramref name="selected"/> (cut to the bounded numwant). <paramref name="trackerUrl"/>
    /// only labels the span; <paramref name="parent"/> is the caller's trace context when the transport carried one
    /// outside <see cref="Activity.Current"/> (default: continue the current activity, if any).
    /// </summary>
    public SwarmAnnounceResult Announce(
        in AnnounceRequest request,
        PeerAddress connectionAddress,
        TrackerTransport transport,
        Span<PeerEndpoint> selected,
        bool sameFamilyOnly,
        string? trackerUrl = null,
        ActivityContext parent = default)
    {
        using var activity = TrackerTelemetry.Source.StartActivity(TrackerTelemetry.AnnounceSpan, ActivityKind.Server, parent);
        var eventName = EventTags[(int)request.Event];
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("torrent.infohash", request.InfoHash.ToHex());
            activity.SetTag("tracker.url", trackerUrl ?? (transport == TrackerTransport.Http ? "http" : "udp"));
            activity.SetTag(eventName.Key, eventName.Value);
        }

        var address = Policy.AllowClientIp && request.ClaimedAddress is { } claimed ? claimed : connectionAddress;
        var wanted = Policy.BoundNumWant(request.NumWant);
        var result = Store.Announce(request, address, selected[..Math.Min(wanted, selected.Length)], sameFamilyOnly);
        var transportTag = transport == TrackerTransport.Http ? HttpTag : UdpTag;
        if (!result.Accepted)
        {
            var reason = result.Refusal.Describe();
            activity?.SetStatus(ActivityStatusCode.Error, reason);
            Reject(transport, "announce", address, reason);
            return result;
        }

        TrackerTelemetry.Announces.Add(1, transportTag, eventName);
        TrackerTelemetry.SwarmPeers.Record(result.Counts.Peers, transportTag);
        return result;
    }

    /// <summary>Counts for one info hash.</summary>
    public SwarmCounts Scrape(InfoHash infoHash, TrackerTransport transport)
    {
        TrackerTelemetry.Scrapes.Add(1, transport == TrackerTransport.Http ? HttpTag : UdpTag);
        return Store.Scrape(infoHash);
    }

    /// <summary>Counts and logs a refused request (structured: transport, request kind, client, reason).</summary>
    public void Reject(TrackerTransport transport, string requestKind, PeerAddress? client, string reason)
    {
        TrackerTelemetry.Rejected.Add(
            1,
            transport == TrackerTransport.Http ? HttpTag : UdpTag,
            new KeyValuePair<string, object?>("tracker.request", requestKind));
        LogRejected(_logger, transport, requestKind, client?.ToString() ?? "unknown", reason);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Rejected {Transport} {RequestKind} from {Client}: {Reason}")]
    private static partial void LogRejected(ILogger logger, TrackerTransport transport, string requestKind, string client, string reason);
}
