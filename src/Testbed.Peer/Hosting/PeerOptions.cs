using Microsoft.Extensions.Options;
using Testbed.Contracts.Settings;
using Testbed.Ledger.Consensus;

namespace Testbed.Peer.Hosting;

/// <summary>Settings under the `Testbed` configuration section (environment: `Testbed__DataDir`, `Testbed__PeerName`, ...).</summary>
public sealed class PeerOptions
{
    /// <summary>The peer's data directory (wallet, chain store, torrent scratch space).</summary>
    public string DataDir { get; set; } = "";

    /// <summary>Parent of per-peer data directories when DataDir is not set (replicas share their environment): DataRoot/PeerName.</summary>
    public string DataRoot { get; set; } = "";

    /// <summary>
    /// Where block and segment torrents are kept (a cache, rebuilt from the chain); empty = a per-process folder in
    /// /dev/shm when it exists (so their writes do not lengthen the chain store's fsyncs), else DataDir/torrents.
    /// </summary>
    public string ScratchDir { get; set; } = "";

    /// <summary>The peer's name on spans and in /status; defaults to OTEL_SERVICE_NAME's instance or the machine name.</summary>
    public string PeerName { get; set; } = "";

    /// <summary>The network's name; every peer of one network must use the same name and difficulty.</summary>
    public string Network { get; set; } = "testbed";

    /// <summary>Fixed mining difficulty in leading zero bits.</summary>
    public uint DifficultyBits { get; set; } = 16;

    /// <summary>Tracker base URL; when empty, service discovery's `services:tracker:http:0` is used.</summary>
    public string? TrackerUrl { get; set; }

    /// <summary>
    /// The loopback address the swarm and torrent listeners and every outgoing peer connection bind to; empty = 127.0.0.1.
    /// May contain <c>{replica}</c>, replaced by N of the peer's name <c>peer-N</c> (replicas share one environment).
    /// </summary>
    public string BindAddress { get; set; } = "";

    /// <summary>
    /// The address other peers should dial (a fault proxy's, for example), sent to the tracker as the announce's <c>ip</c>;
    /// empty = the address the tracker sees. May contain <c>{replica}</c> like <see cref="BindAddress"/>.
    /// </summary>
    public string AdvertiseAddress { get; set; } = "";

    /// <summary>TCP port of the network-wide swarm (0 = any free port).</summary>
    public int SwarmPort { get; set; }

    /// <summary>TCP port of the block and segment torrents (0 = any free port).</summary>
    public int TorrentPort { get; set; }

    /// <summary>Blocks per chain-segment torrent used for catch-up.</summary>
    public int SegmentBlocks { get; set; } = 256;

    /// <summary>Seconds between tracker announces of the network swarm (membership refresh).</summary>
    public int AnnounceIntervalSeconds { get; set; } = 10;

    /// <summary>Seconds a block or segment download may take before it is abandoned.</summary>
    public int DownloadTimeoutSeconds { get; set; } = 15;

    /// <summary>Mining settings.</summary>
    public MiningOptions Mining { get; set; } = new();

    /// <summary>Fault hook settings.</summary>
    public FaultOptions Faults { get; set; } = new();

    /// <summary>DHT settings.</summary>
    public DhtOptions Dht { get; set; } = new();

    /// <summary>
    /// Deliberate defects, comma-separated (<see cref="Testbed.Peer.Faults.BrokenMode"/>): only for proving that the chaos checks catch a
    /// broken peer. Empty (the default) for every real peer.
    /// </summary>
    public string Broken { get; set; } = "";

    /// <summary>The consensus parameters derived from these settings (fixed difficulty).</summary>
    public NetworkConfig ToNetworkConfig() => new()
    {
        Name = Network,
        InitialDifficultyBits = DifficultyBits,
        MinDifficultyBits = DifficultyBits,
        MaxDifficultyBits = DifficultyBits,
    };

    /// <summary>
    /// The bound settings, once the whole-number settings' text is checked (the configuration binder's own refusal of
    /// "abc" names neither the setting's range nor, for some types, the setting); throws an <see cref="ArgumentException"/>.
    /// </summary>
    public static PeerOptions Read(IOptions<PeerOptions> options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        Setting.CheckTexts(PeerSettings.Integers, key => configuration[key]);
        return options.Value;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first unusable setting and its allowed range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDir))
        {
            throw new ArgumentException($"{PeerSettings.DataDir.Key} must name the peer's data directory");
        }

        PeerSettings.DifficultyBits.Check(DifficultyBits);
        PeerSettings.SwarmPort.Check(SwarmPort);
        PeerSettings.TorrentPort.Check(TorrentPort);
        PeerSettings.SegmentBlocks.Check(SegmentBlocks);
        PeerSettings.AnnounceIntervalSeconds.Check(AnnounceIntervalSeconds);
        PeerSettings.DownloadTimeoutSeconds.Check(DownloadTimeoutSeconds);
        PeerSettings.DhtPort.Check(Dht.Port);
        Dht.BootstrapEndPoints();
        Testbed.Peer.Faults.BrokenMode.Parse(Broken);
        PeerSettings.MiningThreads.Check(Mining.Threads);
        PeerSettings.MiningIntervalMs.Check(Mining.IntervalMs);
    }
}

/// <summary>Settings under `Testbed:Mining`.</summary>
public sealed class MiningOptions
{
    /// <summary>Start mining continuously at start-up.</summary>
    public bool Enabled { get; set; }

    /// <summary>Cores the proof-of-work search uses.</summary>
    public int Threads { get; set; } = 1;

    /// <summary>Pause between continuously mined blocks, in milliseconds (0 = none), so tiny difficulties do not flood the network.</summary>
    public int IntervalMs { get; set; }
}

/// <summary>Settings under `Testbed:Faults`.</summary>
public sealed class FaultOptions
{
    /// <summary>Serve the fault hooks (on loopback only).</summary>
    public bool Enabled { get; set; }
}

/// <summary>Settings under `Testbed:Dht`.</summary>
public sealed class DhtOptions
{
    /// <summary>Most bootstrap nodes a peer is given.</summary>
    public const int MaxBootstrapNodes = 64;

    /// <summary>Run a DHT node (BEP 5), so the peer can find the others without the tracker.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>UDP port of the DHT node, on the peer's advertised address (0 = any free port).</summary>
    public int Port { get; set; }

    /// <summary>DHT nodes to start from, comma-separated loopback HOST:PORT; more are learned from the swarm's peers.</summary>
    public string Bootstrap { get; set; } = "";

    /// <summary>Parses <see cref="Bootstrap"/>; throws an <see cref="ArgumentException"/> naming the entry that is unusable.</summary>
    public IReadOnlyList<System.Net.IPEndPoint> BootstrapEndPoints()
    {
        var entries = Bootstrap.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length > MaxBootstrapNodes)
        {
            throw new ArgumentException($"{PeerSettings.DhtBootstrap.Key} lists {entries.Length} nodes; at most {MaxBootstrapNodes}");
        }

        return [.. entries.Select(entry =>
            System.Net.IPEndPoint.TryParse(entry, out var endPoint) && endPoint.Port > 0 && System.Net.IPAddress.IsLoopback(endPoint.Address)
                ? endPoint
                : throw new ArgumentException($"{PeerSettings.DhtBootstrap.Key} entry '{entry}' must be a loopback HOST:PORT such as 127.0.0.2:6881"))];
    }
}
