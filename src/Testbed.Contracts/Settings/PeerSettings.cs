namespace Testbed.Contracts.Settings;

/// <summary>
/// Every setting of a peer (section <c>Testbed</c>, environment <c>Testbed__...</c>), named once: the peer reads and checks
/// them through these, the AppHost sets the environment through these, and the command lines that take one (the AppHost's
/// <c>--difficulty</c>, a scenario's <c>difficulty_bits</c>, the propagation bench's <c>--difficulty</c>) check it with the same range.
/// </summary>
public static class PeerSettings
{
    /// <summary>The configuration section of every peer setting.</summary>
    public const string Section = "Testbed";

    /// <summary>Proof-of-work difficulty, fixed for the network (part of its genesis).</summary>
    public static IntegerSetting DifficultyBits { get; } = new("Testbed:DifficultyBits", 1, 64, "leading zero bits of a block hash");

    /// <summary>Blocks per chain-segment torrent.</summary>
    public static IntegerSetting SegmentBlocks { get; } = new("Testbed:SegmentBlocks", 1, 4096, "blocks per chain-segment torrent");

    /// <summary>TCP port of the network swarm.</summary>
    public static IntegerSetting SwarmPort { get; } = new("Testbed:SwarmPort", 0, 65535, "a TCP port; 0: any free port");

    /// <summary>TCP port of the block and segment torrents.</summary>
    public static IntegerSetting TorrentPort { get; } = new("Testbed:TorrentPort", 0, 65535, "a TCP port; 0: any free port");

    /// <summary>Seconds between tracker announces.</summary>
    public static IntegerSetting AnnounceIntervalSeconds { get; } = new("Testbed:AnnounceIntervalSeconds", 1, 3600, "seconds");

    /// <summary>Seconds a block download may take while a source stays connected (segments: twice).</summary>
    public static IntegerSetting DownloadTimeoutSeconds { get; } = new("Testbed:DownloadTimeoutSeconds", 1, 3600, "seconds");

    /// <summary>Cores of the proof-of-work search.</summary>
    public static IntegerSetting MiningThreads { get; } = new("Testbed:Mining:Threads", 1, 64, "cores");

    /// <summary>Pause between continuously mined blocks.</summary>
    public static IntegerSetting MiningIntervalMs { get; } = new("Testbed:Mining:IntervalMs", 0, 3_600_000, "milliseconds; 0: none");

    /// <summary>UDP port of the peer's DHT node.</summary>
    public static IntegerSetting DhtPort { get; } = new("Testbed:Dht:Port", 0, 65535, "a UDP port; 0: any free port");

    /// <summary>Every whole-number setting, for checking a configuration's raw text before it is bound.</summary>
    public static IReadOnlyList<IntegerSetting> Integers { get; } =
        [DifficultyBits, SegmentBlocks, SwarmPort, TorrentPort, AnnounceIntervalSeconds, DownloadTimeoutSeconds, MiningThreads, MiningIntervalMs, DhtPort];

    /// <summary>The peer's name on spans and in /status.</summary>
    public static Setting PeerName { get; } = new("Testbed:PeerName");

    /// <summary>The peer's data directory.</summary>
    public static Setting DataDir { get; } = new("Testbed:DataDir");

    /// <summary>Parent of per-peer data directories (DataRoot/PeerName) when DataDir is not set.</summary>
    public static Setting DataRoot { get; } = new("Testbed:DataRoot");

    /// <summary>Loopback address of the listeners and of every outgoing connection (<c>{replica}</c> allowed).</summary>
    public static Setting BindAddress { get; } = new("Testbed:BindAddress");

    /// <summary>The address other peers dial, sent to the tracker (<c>{replica}</c> allowed).</summary>
    public static Setting AdvertiseAddress { get; } = new("Testbed:AdvertiseAddress");

    /// <summary>Tracker base URL; empty: service discovery's <c>services:tracker:http:0</c>.</summary>
    public static Setting TrackerUrl { get; } = new("Testbed:TrackerUrl");

    /// <summary>Serve the fault hooks (true/false).</summary>
    public static Setting FaultsEnabled { get; } = new("Testbed:Faults:Enabled");

    /// <summary>DHT nodes to start from, comma-separated loopback HOST:PORT.</summary>
    public static Setting DhtBootstrap { get; } = new("Testbed:Dht:Bootstrap");

    /// <summary>Deliberate defects, comma-separated (only for the tests that prove the chaos checks fail).</summary>
    public static Setting Broken { get; } = new("Testbed:Broken");
}
