namespace Testbed.Contracts.Settings;

/// <summary>
/// Every setting of the tracker (section <c>Tracker</c>, environment <c>Tracker__...</c>), named once: the tracker reads and
/// checks them through these, and the AppHost, <c>testbed tracker</c> and the tests set them through these.
/// </summary>
public static class TrackerSettings
{
    /// <summary>The configuration section of every tracker setting.</summary>
    public const string Section = "Tracker";

    /// <summary>UDP endpoint (BEP 15) as HOST:PORT; no UDP tracker when empty.</summary>
    public static Setting Udp { get; } = new("Tracker:Udp");

    /// <summary>Seconds a client should wait between regular announces.</summary>
    public static IntegerSetting Interval { get; } = new("Tracker:Interval", 1, 86_400, "seconds between a client's regular announces");

    /// <summary>Seconds a client must wait at least between announces (at most <see cref="Interval"/>).</summary>
    public static IntegerSetting MinInterval { get; } = new("Tracker:MinInterval", 0, 86_400, "seconds; at most Tracker:Interval");

    /// <summary>Seconds after its last announce that a silent peer is dropped.</summary>
    public static IntegerSetting PeerTimeout { get; } = new("Tracker:PeerTimeout", 0, 604_800, "seconds; 0: twice Tracker:Interval plus a minute");

    /// <summary>Peers returned when the client does not say how many it wants (at most <see cref="MaxNumWant"/>).</summary>
    public static IntegerSetting DefaultNumWant { get; } = new("Tracker:DefaultNumWant", 0, 1_000, "peers; at most Tracker:MaxNumWant");

    /// <summary>Upper bound on peers returned per announce.</summary>
    public static IntegerSetting MaxNumWant { get; } = new("Tracker:MaxNumWant", 0, 1_000, "peers per announce");

    /// <summary>Upper bound on peers kept per torrent.</summary>
    public static IntegerSetting MaxPeersPerTorrent { get; } = new("Tracker:MaxPeersPerTorrent", 1, 10_000_000, "peers per torrent");

    /// <summary>Upper bound on torrents tracked at once.</summary>
    public static IntegerSetting MaxTorrents { get; } = new("Tracker:MaxTorrents", 1, 10_000_000, "torrents");

    /// <summary>Upper bound on peers tracked over all torrents.</summary>
    public static IntegerSetting MaxPeers { get; } = new("Tracker:MaxPeers", 1, 50_000_000, "peers over all torrents");

    /// <summary>Upper bound on info hashes in one scrape.</summary>
    public static IntegerSetting MaxScrapeHashes { get; } = new("Tracker:MaxScrapeHashes", 1, 1_000, "info hashes per scrape");

    /// <summary>Concurrent UDP receive loops on the one socket.</summary>
    public static IntegerSetting UdpReceiveLoops { get; } = new("Tracker:UdpReceiveLoops", 0, 64, "receive loops; 0: one per processor, at most 4");

    /// <summary>Share of root <c>torrent.announce</c> spans recorded.</summary>
    public static NumberSetting AnnounceSpanSampleRatio { get; } = new("Tracker:AnnounceSpanSampleRatio", 0, 1, "share of root announce spans recorded");

    /// <summary>Trust the <c>ip</c> a client claims instead of the connection's address (true/false).</summary>
    public static Setting AllowClientIp { get; } = new("Tracker:AllowClientIp");

    /// <summary>Run the socket transport's continuations inline on the I/O thread (true/false).</summary>
    public static Setting InlineSocketCompletions { get; } = new("Tracker:InlineSocketCompletions");

    /// <summary>Answer a connection's first complete announce or scrape straight from the accepted socket (true/false).</summary>
    public static Setting FastHttp { get; } = new("Tracker:FastHttp");

    /// <summary>Every setting with a range, for checking a configuration's raw text before it is bound.</summary>
    public static IReadOnlyList<Setting> Ranged { get; } =
    [
        Interval, MinInterval, PeerTimeout, DefaultNumWant, MaxNumWant, MaxPeersPerTorrent, MaxTorrents, MaxPeers, MaxScrapeHashes, UdpReceiveLoops,
        AnnounceSpanSampleRatio,
    ];
}
