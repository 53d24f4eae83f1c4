namespace Testbed.Chaos.Checking;

/// <summary>One peer's report at one moment (from GET /status), or the fact that it did not answer.</summary>
/// <param name="Live">The process runs and is not paused (control API), so the peer is expected to answer and agree.</param>
/// <param name="Answered">GET /status answered.</param>
public sealed record PeerObservation(
    DateTimeOffset At,
    string Peer,
    bool Live,
    bool Answered,
    long Height,
    string? TipHash,
    string? StateRoot,
    long Rejected,
    int Banned,
    int ConnectedPeers,
    int Mempool = 0);

/// <summary>One executed step: what, on whom, when, and whether it did what it should.</summary>
public sealed record StepRecord(int Index, string Kind, IReadOnlyList<string> Targets, DateTimeOffset Started, DateTimeOffset Ended, bool Ok, string Detail);

/// <summary>A tip change that left the old tip off the peer's main chain.</summary>
public sealed record ReorgRecord(DateTimeOffset At, string Peer, string OldTip, string NewTip, long OldHeight, long NewHeight);

/// <summary>A block mined under a byzantine fault (wrong key, low work): no honest peer may accept it.</summary>
public sealed record InvalidBlockRecord(string Miner, string Hash, long Height, string Fault);

/// <summary>A kill -9 of a peer.</summary>
public sealed record CrashRecord(DateTimeOffset At, string Peer);

/// <summary>A block mined on request, with the peer's acknowledgement (it answered that it mined it).</summary>
public sealed record MinedRecord(DateTimeOffset At, string Peer, string Hash, long Height);

/// <summary>Whether a peer knows a block, and whether it is on its main chain, at the end of the run.</summary>
public sealed record BlockLookup(string Peer, string Hash, bool Known, bool OnMainChain);

/// <summary>Everything recorded during a run; thread-safe appends, snapshot reads.</summary>
public sealed class RunHistory
{
    /// <summary>Most observations kept (older ones drop first); bounds memory on long runs.</summary>
    public const int MaxObservations = 100_000;

    private readonly Lock _gate = new();
    private readonly List<PeerObservation> _observations = [];
    private readonly List<StepRecord> _steps = [];
    private readonly List<ReorgRecord> _reorgs = [];
    private readonly List<InvalidBlockRecord> _invalid = [];
    private readonly List<CrashRecord> _crashes = [];
    private readonly List<MinedRecord> _mined = [];
    private readonly List<BlockLookup> _lookups = [];

    /// <summary>Peer reports in time order.</summary>
    public IReadOnlyList<PeerObservation> Observations => Read(_observations);

    /// <summary>Executed steps.</summary>
    public IReadOnlyList<StepRecord> Steps => Read(_steps);

    /// <summary>Observed reorganisations.</summary>
    public IReadOnlyList<ReorgRecord> Reorgs => Read(_reorgs);

    /// <summary>Blocks mined under byzantine faults.</summary>
    public IReadOnlyList<InvalidBlockRecord> InvalidBlocks => Read(_invalid);

    /// <summary>kill -9 events.</summary>
    public IReadOnlyList<CrashRecord> Crashes => Read(_crashes);

    /// <summary>Blocks mined on request.</summary>
    public IReadOnlyList<MinedRecord> Mined => Read(_mined);

    /// <summary>End-of-run block lookups.</summary>
    public IReadOnlyList<BlockLookup> Lookups => Read(_lookups);

    /// <summary>Appends a peer report.</summary>
    public void Add(PeerObservation observation) => Append(_observations, observation, MaxObservations);

    /// <summary>Appends a step.</summary>
    public void Add(StepRecord step) => Append(_steps, step);

    /// <summary>Appends a reorg.</summary>
    public void Add(ReorgRecord reorg) => Append(_reorgs, reorg);

    /// <summary>Appends a block mined under a byzantine fault.</summary>
    public void Add(InvalidBlockRecord block) => Append(_invalid, block);

    /// <summary>Appends a crash.</summary>
    public void Add(CrashRecord crash) => Append(_crashes, crash);

    /// <summary>Appends a mined block.</summary>
    public void Add(MinedRecord mined) => Append(_mined, mined);

    /// <summary>Appends an end-of-run lookup.</summary>
    public void Add(BlockLookup lookup) => Append(_lookups, lookup);

    /// <summary>The latest observation of each peer.</summary>
    public IReadOnlyDictionary<string, PeerObservation> Latest()
    {
        lock (_gate)
        {
            var latest = new Dictionary<string, PeerObservation>(StringComparer.Ordinal);
            foreach (var observation in _observations)
            {
                latest[observation.Peer] = observation;
            }

            return latest;
        }
    }

    private IReadOnlyList<T> Read<T>(List<T> list)
    {
        lock (_gate)
        {
            return [.. list];
        }
    }

    private void Append<T>(List<T> list, T item, int max = 100_000)
    {
        lock (_gate)
        {
            if (list.Count >= max)
            {
                list.RemoveAt(0);
            }

            list.Add(item);
        }
    }
}
