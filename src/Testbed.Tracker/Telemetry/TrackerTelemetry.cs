using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Testbed.Tracker.Telemetry;

/// <summary>The tracker's ActivitySource and Meter, both named "Testbed.Tracker" (the telemetry contract in DESIGN.md).</summary>
public static class TrackerTelemetry
{
    /// <summary>Name of the ActivitySource and the Meter.</summary>
    public const string Name = "Testbed.Tracker";

    /// <summary>Span name of one served announce.</summary>
    public const string AnnounceSpan = "torrent.announce";

    /// <summary>Spans: one `torrent.announce` (kind Server) per announce served.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>Metrics: announces, rejections, scrapes, peers per torrent, torrents and peers tracked.</summary>
    public static readonly Meter Meter = new(Name);

    /// <summary>Announces served (rate = announces per second), by `tracker.transport` and `torrent.event`.</summary>
    public static readonly Counter<long> Announces = Meter.CreateCounter<long>("tracker.announces", "{announce}", "Announces served");

    /// <summary>Requests refused with a failure reason, by `tracker.transport` and `tracker.request`.</summary>
    public static readonly Counter<long> Rejected = Meter.CreateCounter<long>("tracker.rejected", "{request}", "Requests refused with a failure reason");

    /// <summary>Info hashes scraped, by `tracker.transport`.</summary>
    public static readonly Counter<long> Scrapes = Meter.CreateCounter<long>("tracker.scrapes", "{info_hash}", "Info hashes scraped");

    /// <summary>Peers in the announced torrent's swarm, after each announce (the distribution of peers per torrent).</summary>
    public static readonly Histogram<int> SwarmPeers = Meter.CreateHistogram<int>("tracker.swarm.peers", "{peer}", "Peers in the announced torrent's swarm");
}
