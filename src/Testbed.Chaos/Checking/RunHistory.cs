using System.Text.Json.Serialization;
using Testbed.Chaos.Scenarios;

namespace Testbed.Chaos.Checking;

/// <summary>
/// One line of a run's history file (JSON lines, <see cref="HistoryFile"/>): an operation and its acknowledgement, a fault,
/// or an observation, each with its time. The checker reads nothing else.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(RunStarted), "run")]
[JsonDerivedType(typeof(PeerObservation), "observation")]
[JsonDerivedType(typeof(StepRecord), "step")]
[JsonDerivedType(typeof(MinedRecord), "mined")]
[JsonDerivedType(typeof(InvalidBlockRecord), "invalid")]
[JsonDerivedType(typeof(CrashRecord), "crash")]
[JsonDerivedType(typeof(ReorgRecord), "reorg")]
[JsonDerivedType(typeof(BlockEvent), "block")]
[JsonDerivedType(typeof(BlockLogGap), "gap")]
[JsonDerivedType(typeof(ConsistencyRecord), "consistency")]
[JsonDerivedType(typeof(RunEnded), "end")]
public abstract record HistoryEvent;

/// <summary>The first line: which scenario, on which peers, with which steps (expectations included, so they can be checked again).</summary>
public sealed record RunStarted(DateTimeOffset At, string Scenario, IReadOnlyList<string> Peers, IReadOnlyList<PlannedStep> Steps) : HistoryEvent;

/// <summary>A step as the scenario planned it.</summary>
public sealed record PlannedStep(int Index, string Kind, IReadOnlyList<string> Targets, Expectation? Expectation = null)
{
    /// <summary>The plan of a scenario step.</summary>
    public static PlannedStep Of(ScenarioStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return new(step.Index, step.Kind, step.Targets, (step as ExpectStep)?.Expectation);
    }
}

/// <summary>The last line: when the run ended and why it stopped early, if it did.</summary>
public sealed record RunEnded(DateTimeOffset At, string? Error) : HistoryEvent;

/// <summary>One peer's report at one moment (from GET /status), or the fact that it did not answer.</summary>
/// <param name="Live">The process runs and is not paused (control API), so the peer is expected to answer and agree.</param>
/// <param name="Answered">GET /status answered.</param>
/// <param name="StateRoot">The state root in the tip's header.</param>
/// <param name="LiveStateRoot">The state root of the peer's live VM (null: the peer does not report it).</param>
/// <param name="Boot">The peer process's id; a new one after every restart.</param>
/// <param name="BlockLogSeq">The last entry of the peer's block log.</param>
/// <param name="Poll">The poll this observation belongs to (every peer is asked once per poll).</param>
/// <param name="Broken">Deliberate defects the peer says it runs with.</param>
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
    int Mempool = 0,
    string? LiveStateRoot = null,
    string? Boot = null,
    long BlockLogSeq = 0,
    int Poll = 0,
    IReadOnlyList<string>? Broken = null) : HistoryEvent
{
    /// <summary>The root convergence compares: the live VM's when reported, else the tip header's.</summary>
    [JsonIgnore]
    public string? EffectiveStateRoot => LiveStateRoot ?? StateRoot;
}

/// <summary>One executed step: what, on whom, when, and whether it did what it should.</summary>
public sealed record StepRecord(int Index, string Kind, IReadOnlyList<string> Targets, DateTimeOffset Started, DateTimeOffset Ended, bool Ok, string Detail) : HistoryEvent;

/// <summary>A tip change that left the old tip off the peer's main chain.</summary>
public sealed record ReorgRecord(DateTimeOffset At, string Peer, string OldTip, string NewTip, long OldHeight, long NewHeight) : HistoryEvent;

/// <summary>A block mined under a byzantine fault (wrong key, low work): no honest peer may accept it.</summary>
public sealed record InvalidBlockRecord(string Miner, string Hash, long Height, string Fault, DateTimeOffset At = default) : HistoryEvent;

/// <summary>A kill -9 of a peer.</summary>
public sealed record CrashRecord(DateTimeOffset At, string Peer) : HistoryEvent;

/// <summary>A block mined on request, with the peer's acknowledgement (it answered that it mined it).</summary>
public sealed record MinedRecord(DateTimeOffset At, string Peer, string Hash, long Height, bool Faulty = false, bool Withheld = false) : HistoryEvent;

/// <summary>
/// An entry of a peer's block log (GET /blocklog) as the recorder read it at <see cref="At"/>: a block the peer process
/// <see cref="Boot"/> loaded from its own store at start-up, mined, or was handed, and what its chain did with it.
/// </summary>
/// <param name="PeerAtMs">When it happened on the peer, unix milliseconds.</param>
/// <param name="Via"><c>loaded</c>, <c>mined</c>, <c>announce</c> or <c>sync</c>.</param>
/// <param name="Status">Loaded, Connected, SideBranch, Reorganized, Orphan or Rejected.</param>
/// <param name="Accepted">The peer stored it.</param>
public sealed record BlockEvent(
    DateTimeOffset At,
    string Peer,
    string Boot,
    long Seq,
    long PeerAtMs,
    string Hash,
    long Height,
    string Via,
    string Status,
    bool Accepted,
    string? Reason = null,
    string? From = null) : HistoryEvent;

/// <summary>Block-log entries the recorder could not read (the peer had dropped them, or answered garbage).</summary>
public sealed record BlockLogGap(DateTimeOffset At, string Peer, string Boot, long FromSeq, long ToSeq, string Why) : HistoryEvent;

/// <summary>The end-of-run consistency check of one peer (GET /consistency: its chain store against its live VM).</summary>
/// <param name="Checked">The peer answered (false: it was not running, or did not answer; see <see cref="Error"/>).</param>
public sealed record ConsistencyRecord(
    DateTimeOffset At,
    string Peer,
    bool Checked,
    bool Consistent,
    IReadOnlyList<string> Problems,
    long Height = 0,
    string? TipHash = null,
    string? StateRoot = null,
    string? LiveStateRoot = null,
    string? Error = null,
    bool Live = true) : HistoryEvent;

/// <summary>
/// Everything recorded during a run, in order; thread-safe appends, snapshot reads. A sink (the run's history file) sees
/// every event in the same order as it is appended.
/// </summary>
public sealed class RunHistory(Action<HistoryEvent>? sink = null)
{
    /// <summary>Most observations kept in memory (older ones drop first; the file keeps them all).</summary>
    public const int MaxObservations = 100_000;

    /// <summary>Most events of other kinds kept in memory.</summary>
    public const int MaxEvents = 1_000_000;

    private readonly Lock _gate = new();
    private readonly List<PeerObservation> _observations = [];
    private readonly List<StepRecord> _steps = [];
    private readonly List<ReorgRecord> _reorgs = [];
    private readonly List<InvalidBlockRecord> _invalid = [];
    private readonly List<CrashRecord> _crashes = [];
    private readonly List<MinedRecord> _mined = [];
    private readonly List<BlockEvent> _blocks = [];
    private readonly List<BlockLogGap> _gaps = [];
    private readonly List<ConsistencyRecord> _consistency = [];
    private RunStarted? _run;
    private RunEnded? _end;

    /// <summary>The run's header, if recorded.</summary>
    public RunStarted? Run
    {
        get
        {
            lock (_gate)
            {
                return _run;
            }
        }
    }

    /// <summary>The run's end, if recorded.</summary>
    public RunEnded? End
    {
        get
        {
            lock (_gate)
            {
                return _end;
            }
        }
    }

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

    /// <summary>The peers' block-log entries, as read.</summary>
    public IReadOnlyList<BlockEvent> Blocks => Read(_blocks);

    /// <summary>Block-log entries that could not be read.</summary>
    public IReadOnlyList<BlockLogGap> Gaps => Read(_gaps);

    /// <summary>End-of-run consistency checks.</summary>
    public IReadOnlyList<ConsistencyRecord> Consistency => Read(_consistency);

    /// <summary>The peers of the run: the header's, else every peer observed.</summary>
    public IReadOnlyList<string> Peers => Run?.Peers ?? [.. Observations.Select(o => o.Peer).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Appends an event (and hands it to the sink).</summary>
    public void Add(HistoryEvent item)
    {
        ArgumentNullException.ThrowIfNull(item);
        lock (_gate)
        {
            switch (item)
            {
                case RunStarted run:
                    _run = run;
                    break;
                case RunEnded end:
                    _end = end;
                    break;
                case PeerObservation observation:
                    Append(_observations, observation, MaxObservations);
                    break;
                case StepRecord step:
                    Append(_steps, step);
                    break;
                case ReorgRecord reorg:
                    Append(_reorgs, reorg);
                    break;
                case InvalidBlockRecord invalid:
                    Append(_invalid, invalid);
                    break;
                case CrashRecord crash:
                    Append(_crashes, crash);
                    break;
                case MinedRecord mined:
                    Append(_mined, mined);
                    break;
                case BlockEvent block:
                    Append(_blocks, block);
                    break;
                case BlockLogGap gap:
                    Append(_gaps, gap);
                    break;
                case ConsistencyRecord consistency:
                    Append(_consistency, consistency);
                    break;
                default:
                    throw new ArgumentException($"unknown history event {item.GetType().Name}", nameof(item));
            }

            sink?.Invoke(item);
        }
    }

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

    private static void Append<T>(List<T> list, T item, int max = MaxEvents)
    {
        if (list.Count >= max)
        {
            list.RemoveAt(0);
        }

        list.Add(item);
    }
}
