using Testbed.Chaos.Proxy;

namespace Testbed.Chaos.Scenarios;

/// <summary>Every scenario of a scenarios.yaml file, in file order.</summary>
public sealed record ScenarioFile(IReadOnlyList<Scenario> Scenarios)
{
    /// <summary>The scenario named <paramref name="name"/>; throws naming the known ones.</summary>
    public Scenario Get(string name) =>
        Scenarios.FirstOrDefault(s => s.Name == name)
        ?? throw new KeyNotFoundException($"no scenario named '{name}'; known: {string.Join(", ", Scenarios.Select(s => s.Name))}");
}

/// <summary>One scenario: a topology and the steps run against it.</summary>
public sealed record Scenario(string Name, string Description, Topology Topology, IReadOnlyList<ScenarioStep> Steps, TimeSpan Timeout);

/// <summary>The testbed a scenario needs.</summary>
/// <param name="Peers">Peer replicas, named peer-1..peer-N.</param>
/// <param name="DifficultyBits">Proof-of-work difficulty in leading zero bits (tiny in tests).</param>
/// <param name="LateJoiners">Peers not running before the first step (never started by an AppHost shaped for the scenario); a <c>start</c> step brings them in.</param>
/// <param name="MiningInterval">Pause between continuously mined blocks (Testbed:Mining:IntervalMs), so tiny difficulties do not flood.</param>
public sealed record Topology(int Peers, int DifficultyBits, IReadOnlyList<string> LateJoiners, TimeSpan MiningInterval)
{
    /// <summary>The DHT nodes a peer starts knowing, by peer name (<c>dht_bootstrap</c>); a peer not listed starts knowing none.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> DhtBootstrap { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<string, IReadOnlyList<string>>.Empty;

    /// <summary>The peer names, peer-1..peer-N.</summary>
    public IReadOnlyList<string> PeerNames => [.. Enumerable.Range(1, Peers).Select(i => $"peer-{i}")];
}

/// <summary>One step; <see cref="Index"/> is 1-based, <see cref="Line"/> the line in the file.</summary>
public abstract record ScenarioStep(int Index, int Line)
{
    /// <summary>The step's key in scenarios.yaml.</summary>
    public abstract string Kind { get; }

    /// <summary>Whether the step injects or lifts a fault (and is therefore a <c>chaos.fault</c> span).</summary>
    public virtual bool IsFault => false;

    /// <summary>What the step acts on, for spans and reports.</summary>
    public abstract IReadOnlyList<string> Targets { get; }
}

/// <summary>Mine <see cref="Blocks"/> blocks on each peer of <see cref="On"/> (POST /mining mine).</summary>
public sealed record MineStep(int Index, int Line, IReadOnlyList<string> On, int Blocks) : ScenarioStep(Index, Line)
{
    /// <inheritdoc />
    public override string Kind => "mine";

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => On;
}

/// <summary>Start or stop continuous mining on peers.</summary>
public sealed record MiningStep(int Index, int Line, IReadOnlyList<string> On, bool Start) : ScenarioStep(Index, Line)
{
    /// <inheritdoc />
    public override string Kind => "mining";

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => On;
}

/// <summary>A burst of <see cref="Count"/> transactions submitted to each peer of <see cref="On"/>.</summary>
public sealed record TransactionsStep(int Index, int Line, IReadOnlyList<string> On, int Count) : ScenarioStep(Index, Line)
{
    /// <inheritdoc />
    public override string Kind => "transactions";

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => On;
}

/// <summary>Partition between groups: every group is cut from every other one (one way: only from the first group to the others).</summary>
public sealed record PartitionStep(int Index, int Line, IReadOnlyList<IReadOnlyList<string>> Groups, bool BothWays) : ScenarioStep(Index, Line)
{
    /// <inheritdoc />
    public override string Kind => "partition";

    /// <inheritdoc />
    public override bool IsFault => true;

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => [.. Groups.Select(g => "[" + string.Join(",", g) + "]")];
}

/// <summary>Lift every partition.</summary>
public sealed record HealStep(int Index, int Line) : ScenarioStep(Index, Line)
{
    /// <inheritdoc />
    public override string Kind => "heal";

    /// <inheritdoc />
    public override bool IsFault => true;

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => ["*"];
}

/// <summary>Put a toxic on the links from each of <see cref="From"/> to each of <see cref="To"/> (and back with <see cref="BothWays"/>).</summary>
public sealed record ToxicStep(int Index, int Line, IReadOnlyList<string> From, IReadOnlyList<string> To, LinkToxic Toxic, bool BothWays) : ScenarioStep(Index, Line)
{
    /// <inheritdoc />
    public override string Kind => "toxic";

    /// <inheritdoc />
    public override bool IsFault => true;

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => [.. From.SelectMany(f => To.Where(t => t != f).Select(t => $"{f}->{t}"))];
}

/// <summary>Remove every toxic.</summary>
public sealed record ClearToxicsStep(int Index, int Line) : ScenarioStep(Index, Line)
{
    /// <inheritdoc />
    public override string Kind => "clear_toxics";

    /// <inheritdoc />
    public override bool IsFault => true;

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => ["*"];
}

/// <summary>A process fault or lifecycle command through the AppHost's control API (kill, pause, resume, restart, stop, start).</summary>
public sealed record ProcessStep(int Index, int Line, string Action, IReadOnlyList<string> On) : ScenarioStep(Index, Line)
{
    /// <summary>The commands a process step may name.</summary>
    public static readonly IReadOnlyList<string> Actions = ["kill", "pause", "resume", "restart", "stop", "start"];

    /// <inheritdoc />
    public override string Kind => Action;

    /// <inheritdoc />
    public override bool IsFault => true;

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => On;
}

/// <summary>Switch a peer fault hook on (POST /faults/{name}).</summary>
public sealed record PeerFaultStep(int Index, int Line, IReadOnlyList<string> On, string Name, double Share, long SkewMs) : ScenarioStep(Index, Line)
{
    /// <summary>The fault hooks the peers serve.</summary>
    public static readonly IReadOnlyList<string> Names = ["corrupt-pieces", "wrong-key", "low-work", "withhold", "clock-skew", "drop-announcements"];

    /// <inheritdoc />
    public override string Kind => "fault";

    /// <inheritdoc />
    public override bool IsFault => true;

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => On;
}

/// <summary>Switch a peer fault hook off (DELETE /faults/{name}); withhold releases its blocks.</summary>
public sealed record ClearFaultStep(int Index, int Line, IReadOnlyList<string> On, string Name) : ScenarioStep(Index, Line)
{
    /// <inheritdoc />
    public override string Kind => "clear_fault";

    /// <inheritdoc />
    public override bool IsFault => true;

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => On;
}

/// <summary>Wait a fixed time (the history keeps recording).</summary>
public sealed record WaitStep(int Index, int Line, TimeSpan Duration) : ScenarioStep(Index, Line)
{
    /// <inheritdoc />
    public override string Kind => "wait";

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => [];
}

/// <summary>Check an expectation, waiting up to its <c>within</c>.</summary>
public sealed record ExpectStep(int Index, int Line, Expectation Expectation) : ScenarioStep(Index, Line)
{
    /// <inheritdoc />
    public override string Kind => "expect";

    /// <inheritdoc />
    public override IReadOnlyList<string> Targets => Expectation.Exclude.Count == 0 ? ["*"] : [$"* except {string.Join(",", Expectation.Exclude)}"];
}

/// <summary>
/// What must hold within <see cref="Within"/>; null fields are not checked. Counted events (reorgs) are those that happened
/// between the previous expect step (or the run's start) and this one, not since the start of the run.
/// </summary>
/// <param name="Converged">Every live peer (minus <see cref="Exclude"/>) on the same tip and the same live VM state root.</param>
/// <param name="Within">How long the condition may take.</param>
/// <param name="HeightAtLeast">Every live checked peer at least this high.</param>
/// <param name="ReorgsAtLeast">At least this many tip changes to a block that does not extend the previous tip, over all peers, since the previous expect step.</param>
/// <param name="RejectedAtLeast">At least this many blocks rejected, summed over the checked peers, since the previous expect step.</param>
/// <param name="BannedAtLeast">At least this many peers banned (in force now), summed over the checked peers.</param>
/// <param name="MempoolAtMost">Every checked peer holds at most this many pending transactions (0: all were mined in).</param>
/// <param name="Exclude">Peers not checked (the byzantine one).</param>
/// <param name="InvalidRejected">
/// Every block mined under a byzantine fault so far was rejected by every checked peer that received it (none accepted it,
/// none holds it undecided), and at least one checked peer received and rejected one (else nothing was tested).
/// </param>
/// <param name="ConnectedAtLeast">Every live checked peer connected to at least this many swarm peers (a state, like bans).</param>
public sealed record Expectation(
    bool? Converged,
    TimeSpan Within,
    long? HeightAtLeast,
    int? ReorgsAtLeast,
    int? RejectedAtLeast,
    int? BannedAtLeast,
    int? MempoolAtMost,
    IReadOnlyList<string> Exclude,
    bool? InvalidRejected = null,
    int? ConnectedAtLeast = null);
