using System.Net;
using Microsoft.Extensions.Options;
using Testbed.Contracts.Settings;
using Testbed.Ledger.Chain;
using Testbed.Ledger.Mempool;
using Testbed.Ledger.Wallets;
using Testbed.Peer.Audit;
using Testbed.Peer.Faults;
using Testbed.Peer.Mining;
using Testbed.Peer.Network;
using Testbed.Peer.Network.Messages;
using Testbed.Peer.Propagation;
using Testbed.Peer.Sync;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Sessions;
using Testbed.Vm;

namespace Testbed.Peer.Hosting;

/// <summary>
/// One peer: wallet and chain from its data directory, the BitTorrent client, the network swarm joined through the
/// tracker, propagation, catch-up and the miner. Started and stopped by the host; ready once the chain is open, the
/// tracker answered and a first catch-up pass ran.
/// </summary>
public sealed class PeerNode(IOptions<PeerOptions> options, IConfiguration configuration, FaultState faults, ILogger<PeerNode> logger) : IHostedService, ISwarmHandler, IAsyncDisposable
{
    private readonly PeerOptions _settings = PeerOptions.Read(options, configuration);
    private readonly CancellationTokenSource _stopping = new();
    private readonly BlockTimings _timings = new();
    private Task? _syncLoop;
    private PeerMetrics? _metrics;
    private bool _started;

    /// <summary>The peer's name.</summary>
    public string Name { get; private set; } = "";

    /// <summary>The settings in effect.</summary>
    public PeerOptions Settings => _settings;

    /// <summary>The peer's wallet.</summary>
    public Wallet Wallet { get; private set; } = null!;

    /// <summary>The chain (all branches, best tip, VM state).</summary>
    public Blockchain Chain { get; private set; } = null!;

    /// <summary>Pending transactions.</summary>
    public TransactionPool Mempool { get; private set; } = null!;

    /// <summary>The network swarm.</summary>
    public NetworkSwarm Swarm { get; private set; } = null!;

    /// <summary>Block propagation.</summary>
    public BlockPropagator Propagator { get; private set; } = null!;

    /// <summary>Transaction gossip.</summary>
    public TransactionGossip Gossip { get; private set; } = null!;

    /// <summary>Catch-up.</summary>
    public ChainSync Sync { get; private set; } = null!;

    /// <summary>The miner.</summary>
    public MiningService Miner { get; private set; } = null!;

    /// <summary>The fault hooks.</summary>
    public FaultState Faults => faults;

    /// <summary>Every block this process loaded, mined, accepted or refused, for the chaos history (GET /blocklog).</summary>
    public BlockLog BlockLog { get; } = new();

    /// <summary>The deliberate defects this peer runs with; empty for every honest peer.</summary>
    public IReadOnlyList<BrokenMode> Broken { get; private set; } = [];

    /// <summary>Timing reports of recent blocks.</summary>
    public BlockTimings Timings => _timings;

    /// <summary>Membership through the tracker, if one is configured.</summary>
    public TrackerMembership? Membership { get; private set; }

    /// <summary>The DHT node, when <see cref="DhtOptions.Enabled"/>.</summary>
    public DhtDiscovery? Dht { get; private set; }

    /// <summary>The BitTorrent client for block and segment torrents.</summary>
    public TorrentClient Torrents { get; private set; } = null!;

    private TorrentCache _blockTorrents = null!;
    private TorrentCache _segmentTorrents = null!;
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;

    /// <summary>
    /// True once the peer can serve: chain open, listening, membership known (the tracker answered, or a peer was found
    /// through the DHT), first catch-up pass done (or 30 s passed).
    /// </summary>
    public bool IsReady =>
        _started &&
        (Membership is null || Membership.SuccessfulAnnounces > 0 || Swarm.Peers.Count > 0) &&
        (Sync.Passes > 0 || DateTimeOffset.UtcNow - _startedAt > TimeSpan.FromSeconds(30));

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Name = ResolveName();
        if (string.IsNullOrWhiteSpace(_settings.DataDir))
        {
            var root = string.IsNullOrWhiteSpace(_settings.DataRoot) ? Path.Combine(Path.GetTempPath(), "testbed-peers") : _settings.DataRoot;
            _settings.DataDir = Path.Combine(root, Name);
        }

        _settings.Validate();
        Broken = BrokenMode.Parse(_settings.Broken);
        if (Broken.Count > 0)
        {
            logger.LogWarning("peer {Name} runs BROKEN on purpose ({Modes}): for proving the chaos checks only", Name, string.Join(", ", Broken.Select(m => m.Name)));
        }

        var addresses = PeerAddresses.Resolve(_settings, Name);
        PrepareDataDirectory(_settings.DataDir);
        Wallet = Wallet.LoadOrCreate(_settings.DataDir);
        Chain = Blockchain.Open(Path.Combine(_settings.DataDir, "chain"), _settings.ToNetworkConfig(), new ChainOptions
        {
            PeerName = Name,
            Vm = new VmOptions { PeerName = Name },
            Time = faults.Clock,
            Defects = BrokenMode.ChainDefectsOf(Broken),
        });
        // What the store gave back, recorded before the peer talks to anyone: a block kept across a crash is told from one synced again.
        BlockLog.Loaded(Chain.IndexedBlocks());
        Mempool = new TransactionPool(Chain);

        // Torrent scratch space is a cache: a crash may leave partial files, and everything in it can be rebuilt from the chain.
        var scratch = ScratchDirectory();
        if (Directory.Exists(scratch))
        {
            Directory.Delete(scratch, recursive: true);
        }

        _scratch = scratch;

        Torrents = new TorrentClient(new TorrentClientOptions { ListenEndPoint = new IPEndPoint(addresses.Bind, _settings.TorrentPort), OutgoingAddress = addresses.Bind });
        Torrents.Start();
        _blockTorrents = new TorrentCache(Torrents, Path.Combine(scratch, "blocks"), Name, faults, capacity: 32);
        _segmentTorrents = new TorrentCache(Torrents, Path.Combine(scratch, "segments"), Name, faults, capacity: 16);
        Swarm = new NetworkSwarm(Chain.GenesisHash, Torrents.PeerId, this, logger);
        Swarm.Listen(addresses.Bind, _settings.SwarmPort, addresses.Advertise);
        var timeout = TimeSpan.FromSeconds(_settings.DownloadTimeoutSeconds);
        Propagator = new BlockPropagator(Chain, Swarm, _blockTorrents, faults, _timings, BlockLog, Name, timeout, logger);
        Gossip = new TransactionGossip(Mempool, Swarm);
        Sync = new ChainSync(Chain, Swarm, _segmentTorrents, _timings, BlockLog, _settings.SegmentBlocks, timeout, Name, () => faults.Withhold, logger);
        Miner = new MiningService(Chain, Mempool, Wallet, Propagator, _timings, faults, Name, _settings.Mining.Threads, TimeSpan.FromMilliseconds(_settings.Mining.IntervalMs), logger)
        {
            BlockLog = BlockLog,
            DropMinedBlocks = Broken.Contains(BrokenMode.StopMiningSilently),
        };
        Swarm.On<BlockAnnouncement>(Propagator.OnAnnounce);
        Swarm.On<TransactionMessage>(Gossip.OnTransaction);
        Swarm.On<SyncMessage>(Sync.OnMessage);
        _metrics = new PeerMetrics(() => Miner.Attempts, () => Chain.Tip.Height, () => Swarm.Peers.Count);
        Propagator.OrphanSeen += _ => Sync.Trigger();
        Propagator.SourcesLost += Sync.Trigger;
        Chain.TipChanged += tip =>
        {
            Mempool.Prune();
            Sync.BroadcastTip(tip);
            Propagator.RetryOrphans();
        };
        faults.Cleared += name =>
        {
            if (name == "corrupt-pieces")
            {
                _blockTorrents.RestoreAll(info => Testbed.Ledger.Hash256.TryParse(info.Name.Replace(".jws", "", StringComparison.Ordinal), out var h) && Chain.GetBlockToken(h) is { } token ? System.Text.Encoding.ASCII.GetBytes(token) : null);
            }
        };

        var tracker = ResolveTracker();
        var announceInterval = TimeSpan.FromSeconds(_settings.AnnounceIntervalSeconds);
        if (tracker is not null)
        {
            Membership = new TrackerMembership(Swarm, tracker, announceInterval, addresses.Advertise, logger);
        }
        else if (!_settings.Dht.Enabled)
        {
            logger.LogWarning("no tracker configured ({Setting} or services:tracker:http:0) and no DHT: running alone", PeerSettings.TrackerUrl.Key);
        }

        if (_settings.Dht.Enabled)
        {
            // On the advertised address: announce_peer records the sender's address, which others must dial through the proxy.
            Dht = await DhtDiscovery.StartAsync(
                new IPEndPoint(addresses.Advertise ?? addresses.Bind, _settings.Dht.Port), _settings.Dht.BootstrapEndPoints(), Path.Combine(_settings.DataDir, "dht.state"),
                Name, Swarm, Torrents.LocalEndPoint!.Port, announceInterval, logger, cancellationToken).ConfigureAwait(false);
            _blockTorrents.Seeding += Dht.AnnounceBlock;
        }

        Swarm.StartRedialling(TimeSpan.FromSeconds(1));

        _syncLoop = Task.Run(() => Sync.RunAsync(_stopping.Token), CancellationToken.None);
        Sync.Trigger();
        _started = true;
        if (_settings.Mining.Enabled)
        {
            Miner.Start();
        }

        var tip = Chain.Tip;
        logger.LogInformation(
            "peer {Name} ({Address}) ready to join: height {Height}, tip {Tip}, swarm {Swarm}, torrents {Torrents}, tracker {Tracker}, DHT {Dht}",
            Name, Wallet.Address, tip.Height, tip.Hash, Swarm.LocalEndPoint, Torrents.LocalEndPoint, Membership?.Tracker, Dht?.LocalEndPoint);
    }

    /// <summary>
    /// Creates the data directory readable by its owner only (0700: it holds the wallet's key); refuses an existing one that
    /// others may write to, since whoever can write there can swap the peer's key or chain.
    /// </summary>
    internal static void PrepareDataDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        if (File.Exists(directory))
        {
            throw new ArgumentException($"{PeerSettings.DataDir.Key} {directory} is a file, not a directory");
        }

        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return;
        }

        var mode = File.GetUnixFileMode(directory);
        if ((mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new ArgumentException(
                $"{PeerSettings.DataDir.Key} {directory} is writable by group or others (mode {Convert.ToString((int)mode, 8)}); the peer's key lives there: chmod 700 it");
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            return;
        }

        _metrics?.Dispose();
        await Miner.StopAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_syncLoop is not null)
        {
            await _syncLoop.ConfigureAwait(false);
        }

        // Receives and offers end before the swarm, the torrents and the chain they use are disposed.
        await Propagator.StopAsync().ConfigureAwait(false);
        await Sync.StopAsync().ConfigureAwait(false);

        if (Membership is not null)
        {
            await Membership.DisposeAsync().ConfigureAwait(false);
        }

        if (Dht is not null)
        {
            await Dht.DisposeAsync().ConfigureAwait(false);
        }

        await Swarm.DisposeAsync().ConfigureAwait(false);
        await _blockTorrents.DisposeAsync().ConfigureAwait(false);
        await _segmentTorrents.DisposeAsync().ConfigureAwait(false);
        await Torrents.DisposeAsync().ConfigureAwait(false);
        Miner.Dispose();
        Chain.Dispose();
        TryDelete(_scratch);
        Wallet.Dispose();
        _started = false;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <inheritdoc />
    public void AddHandshakeFields(BencodeDictionary handshake)
    {
        var tip = Chain.Tip;
        handshake.Add("tb_name", Name);
        handshake.Add("tb_tport", (long)Torrents.LocalEndPoint!.Port);
        handshake.Add("tb_height", tip.Height);
        handshake.Add("tb_work", SwarmMessages.WorkToHex(tip.CumulativeWork));
        if (Dht is not null)
        {
            handshake.Add("tb_dht", SwarmMessages.Compact(Dht.LocalEndPoint));
        }
    }

    /// <inheritdoc />
    public void OnPeerReady(SwarmPeer peer)
    {
        logger.LogInformation("swarm peer {Peer} joined (height {Height})", peer, peer.ClaimedHeight);
        if (peer.DhtEndPoint is { } dht)
        {
            Dht?.Learn(dht);
        }

        if (peer.ClaimedWork > Chain.Tip.CumulativeWork)
        {
            Sync.Trigger();
        }
    }

    private string _scratch = "";

    private string ScratchDirectory()
    {
        if (!string.IsNullOrWhiteSpace(_settings.ScratchDir))
        {
            return _settings.ScratchDir;
        }

        const string shm = "/dev/shm";
        if (!Directory.Exists(shm))
        {
            return Path.Combine(_settings.DataDir, "torrents");
        }

        // Folders of peers that died without cleaning up (SIGKILL) are removed by the next peer that starts.
        foreach (var stale in Directory.EnumerateDirectories(shm, "testbed-peer-*"))
        {
            var parts = Path.GetFileName(stale).Split('-');
            if (parts.Length >= 3 && int.TryParse(parts[2], System.Globalization.CultureInfo.InvariantCulture, out var pid) && !ProcessExists(pid))
            {
                TryDelete(stale);
            }
        }

        var safeName = string.Concat(Name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));
        return Path.Combine(shm, $"testbed-peer-{Environment.ProcessId}-{safeName}");
    }

    private static bool ProcessExists(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private string ResolveName()
    {
        if (!string.IsNullOrWhiteSpace(_settings.PeerName))
        {
            return _settings.PeerName;
        }

        // Aspire-style replicas carry their instance id in the resource attributes.
        var attributes = configuration["OTEL_RESOURCE_ATTRIBUTES"] ?? "";
        foreach (var pair in attributes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2);
            if (parts.Length == 2 && parts[0] == "service.instance.id" && parts[1].Length > 0)
            {
                return parts[1];
            }
        }

        return configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } service ? service : "peer-" + Environment.ProcessId;
    }

    private Uri? ResolveTracker()
    {
        var url = _settings.TrackerUrl;
        if (string.IsNullOrWhiteSpace(url))
        {
            url = configuration["services:tracker:http:0"];
        }

        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        return Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ArgumentException($"tracker URL '{url}' is not an absolute http(s) URL");
    }
}
