using System.Diagnostics;
using Testbed.Contracts.Peers;
using Testbed.Ledger;
using Testbed.Ledger.Blocks;
using Testbed.Ledger.Chain;
using Testbed.Ledger.Jws;
using Testbed.Ledger.Mempool;
using Testbed.Ledger.Mining;
using Testbed.Ledger.ProofOfWork;
using Testbed.Ledger.Wallets;
using Testbed.Peer.Audit;
using Testbed.Peer.Faults;
using Testbed.Peer.Propagation;

namespace Testbed.Peer.Mining;

/// <summary>
/// The miner: continuous (start/stop) or on demand (mine N), on the chain's best tip with the mempool's transactions.
/// One search runs at a time. Mined blocks are added to our chain and announced, unless a fault hook says otherwise
/// (wrong key or too little work: announced but never added locally; withhold: added locally, announced on release).
/// </summary>
public sealed class MiningService : IDisposable
{
    private readonly Blockchain _chain;
    private readonly TransactionPool _mempool;
    private readonly Wallet _wallet;
    private readonly BlockMiner _miner;
    private readonly BlockPropagator _propagator;
    private readonly BlockTimings _timings;
    private readonly FaultState _faults;
    private readonly string _peerName;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _search = new(1, 1);
    private readonly Lock _gate = new();
    private readonly List<(string Token, Hash256 Hash, long Height)> _withheld = [];
    private readonly Wallet _wrongKey = Wallet.CreateEphemeral();
    private CancellationTokenSource? _continuous;
    private Task? _loop;
    private long _blocksMined;
    private long _faultyMined;
    private int _onDemand;

    /// <summary>Creates the miner.</summary>
    public MiningService(Blockchain chain, TransactionPool mempool, Wallet wallet, BlockPropagator propagator, BlockTimings timings, FaultState faults, string peerName, int threads, TimeSpan interval, ILogger logger)
    {
        _chain = chain;
        _mempool = mempool;
        _wallet = wallet;
        _propagator = propagator;
        _timings = timings;
        _faults = faults;
        _peerName = peerName;
        _interval = interval;
        _logger = logger;
        _miner = new BlockMiner(wallet, threads, peerName);
        faults.Cleared += name =>
        {
            if (name == "withhold")
            {
                _ = Task.Run(ReleaseWithheldAsync);
            }
        };
    }

    /// <summary>Where mined blocks are recorded with the chain's answer (none: not recorded).</summary>
    public BlockLog? BlockLog { get; init; }

    /// <summary>
    /// The stop-mining-silently defect (<see cref="BrokenMode.StopMiningSilently"/>): a found block is reported as mined but
    /// neither stored nor announced. False for every honest peer.
    /// </summary>
    public bool DropMinedBlocks { get; init; }

    /// <summary>Proof-of-work attempts made so far (every search, cancelled ones included).</summary>
    public long Attempts => _miner.Attempts;

    /// <summary>The miner's state.</summary>
    public MiningStatus Status
    {
        get
        {
            lock (_gate)
            {
                var state = _continuous is not null ? "continuous" : Volatile.Read(ref _onDemand) > 0 ? "on-demand" : "idle";
                return new MiningStatus(state, Interlocked.Read(ref _blocksMined), Interlocked.Read(ref _faultyMined), _withheld.Count, _miner.Threads);
            }
        }
    }

    /// <summary>Starts continuous mining (no-op when already running).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_continuous is not null)
            {
                return;
            }

            var cts = new CancellationTokenSource();
            _continuous = cts;
            _loop = Task.Run(() => LoopAsync(cts.Token));
        }
    }

    /// <summary>Stops continuous mining and waits for the current search to end.</summary>
    public async Task StopAsync()
    {
        CancellationTokenSource? cts;
        Task? running;
        lock (_gate)
        {
            cts = _continuous;
            running = _loop;
            _continuous = null;
            _loop = null;
        }

        if (cts is null)
        {
            return;
        }

        await cts.CancelAsync().ConfigureAwait(false);
        if (running is not null)
        {
            await running.ConfigureAwait(false);
        }

        cts.Dispose();
    }

    /// <summary>Mines exactly <paramref name="count"/> blocks (each on the tip of the moment) and returns them.</summary>
    public async Task<IReadOnlyList<MinedBlockReport>> MineAsync(int count, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _onDemand);
        try
        {
            var mined = new List<MinedBlockReport>();
            while (mined.Count < count)
            {
                if (await MineOneAsync(cancellationToken).ConfigureAwait(false) is { } report)
                {
                    mined.Add(report);
                }
            }

            return mined;
        }
        finally
        {
            Interlocked.Decrement(ref _onDemand);
        }
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await MineOneAsync(cancellationToken).ConfigureAwait(false);
                if (_interval > TimeSpan.Zero)
                {
                    await Task.Delay(_interval, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException)
            {
                _logger.LogWarning(e, "mining failed");
                await Task.Delay(500, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One search; null when another block won the race (the caller tries again on the new tip).</summary>
    private async Task<MinedBlockReport?> MineOneAsync(CancellationToken cancellationToken)
    {
        await _search.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Each block is the root of its own trace (receivers continue it), linked to whatever asked for it (POST /mining),
            // so mining N blocks on demand gives N block traces, not one trace holding every block.
            // (A default parent context still falls back to Activity.Current, so it is cleared; the change stays in this async flow.)
            var requester = Activity.Current?.Context;
            Activity.Current = null;
            using var activity = PeerTelemetry.Source.StartActivity(
                "block.produce", ActivityKind.Internal, parentContext: default,
                links: requester is { } context ? [new ActivityLink(context)] : null);
            activity?.SetTag(PeerTelemetry.Peer, _peerName);
            if (_faults.WrongKey || _faults.LowWork)
            {
                return await MineFaultyAsync(activity, cancellationToken).ConfigureAwait(false);
            }

            var mined = await _miner.MineNextAsync(_chain, _mempool.Ordered(), cancellationToken).ConfigureAwait(false);
            // Propagation is timed from here (nonce found, block signed): the miner's own store and seeding are part of it.
            var foundAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            cancellationToken.ThrowIfCancellationRequested();
            if (mined is null)
            {
                activity?.SetTag(PeerTelemetry.Result, "superseded");
                return null;
            }

            var block = mined.Block;
            if (DropMinedBlocks)
            {
                // The defect: the caller hears of a block nobody will ever see.
                activity?.SetTag(PeerTelemetry.BlockHash, block.Hash.ToString());
                activity?.SetTag(PeerTelemetry.Result, "dropped_broken");
                Interlocked.Increment(ref _blocksMined);
                return new MinedBlockReport(block.Hash.ToString(), block.Height, Faulty: false, Withheld: false);
            }

            // Described as a torrent once: seeded while the chain stores the block, announced once it is stored.
            var torrent = BlockTorrent.Of(block.Token, block.Hash);
            var seeding = _faults.Withhold ? Task.CompletedTask : _propagator.SeedAsync(torrent, CancellationToken.None);
            var result = _chain.AddMinedBlock(mined);
            BlockLog?.Add(block.Hash, block.Height, "mined", result);
            await seeding.ConfigureAwait(false);
            activity?.SetTag(PeerTelemetry.BlockHash, block.Hash.ToString());
            activity?.SetTag(PeerTelemetry.BlockHeight, block.Height);
            activity?.SetTag(PeerTelemetry.Result, result.Status.ToString());
            if (result.Status != AddBlockStatus.Connected)
            {
                _logger.LogInformation("mined block {Hash} was not connected: {Status} {Detail}", block.Hash, result.Status, result.Detail);
                return null;
            }

            Interlocked.Increment(ref _blocksMined);
            _timings.Mined(block.Hash, block.Height, foundAtMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), activity?.TraceId.ToString());
            if (_faults.Withhold)
            {
                lock (_gate)
                {
                    _withheld.Add((block.Token, block.Hash, block.Height));
                }

                return new MinedBlockReport(block.Hash.ToString(), block.Height, Faulty: false, Withheld: true);
            }

            await _propagator.PublishAsync(torrent, block.Height, CancellationToken.None).ConfigureAwait(false);
            return new MinedBlockReport(block.Hash.ToString(), block.Height, Faulty: false, Withheld: false);
        }
        finally
        {
            _search.Release();
        }
    }

    /// <summary>The wrong-key and low-work faults: a block every honest peer must refuse, announced but never added here.</summary>
    private async Task<MinedBlockReport> MineFaultyAsync(Activity? activity, CancellationToken cancellationToken)
    {
        var template = _chain.CreateTemplate(_mempool.Ordered(), _wallet.PublicKey.Address);
        BlockHeader header;
        if (_faults.LowWork)
        {
            // A nonce whose hash falls short of the difficulty: the block claims work it does not have.
            var bits = (int)template.Header.DifficultyBits;
            var nonce = (ulong)Random.Shared.NextInt64();
            header = template.Header with { Nonce = nonce };
            while (ProofOfWorkSearch.LeadingZeroBits(header.ComputeHash().Span) >= bits)
            {
                header = header with { Nonce = ++nonce };
            }
        }
        else
        {
            var mined = await _miner.MineAsync(template, cancellationToken).ConfigureAwait(false) ?? throw new OperationCanceledException(cancellationToken);
            header = mined.Block.Header;
        }

        string token;
        if (_faults.WrongKey)
        {
            // Signed by another key while the payload names us as the miner: kid and miner disagree.
            token = JwsSigner.Sign(Block.PayloadJson(header, template.Transactions), _wrongKey);
        }
        else
        {
            token = Block.Sign(header, template.Transactions, _wallet, _peerName).Token;
        }

        var hash = header.ComputeHash();
        Interlocked.Increment(ref _faultyMined);
        activity?.SetTag(PeerTelemetry.BlockHash, hash.ToString());
        activity?.SetTag(PeerTelemetry.Result, _faults.WrongKey ? "fault_wrong_key" : "fault_low_work");
        await _propagator.PublishAsync(token, hash, (long)header.Height, CancellationToken.None).ConfigureAwait(false);
        return new MinedBlockReport(hash.ToString(), (long)header.Height, Faulty: true, Withheld: false);
    }

    private async Task ReleaseWithheldAsync()
    {
        List<(string Token, Hash256 Hash, long Height)> release;
        lock (_gate)
        {
            release = [.. _withheld];
            _withheld.Clear();
        }

        foreach (var (token, hash, height) in release)
        {
            await _propagator.PublishAsync(token, hash, height, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _search.Dispose();
        _wrongKey.Dispose();
        _continuous?.Dispose();
    }
}
