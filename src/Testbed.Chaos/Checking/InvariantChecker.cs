using System.Globalization;

namespace Testbed.Chaos.Checking;

/// <summary>The result of one check: which invariant or expectation, whether it held, and if not, the peers and blocks involved.</summary>
public sealed record CheckResult(string Name, bool Ok, string Detail)
{
    /// <summary>A passing result.</summary>
    public static CheckResult Pass(string name, string detail) => new(name, true, detail);

    /// <summary>A failing result.</summary>
    public static CheckResult Fail(string name, string detail) => new(name, false, detail);
}

/// <summary>
/// Jepsen-style checks over a recorded <see cref="RunHistory"/> (in a run: the history file read back, nothing else):
/// the invariants over the whole run, and in <see cref="Check"/> every expect step again (<see cref="ExpectationChecker"/>).
/// Pure: the same history always gives the same verdict. Each invariant is shown to fail on a deliberately broken peer
/// (docs/chaos.md).
/// </summary>
public static class InvariantChecker
{
    /// <summary>Name of the invariant: no honest peer ever accepted a block mined under a byzantine fault.</summary>
    public const string NoInvalidBlockAcceptedName = "no-invalid-block-accepted";

    /// <summary>Name of the invariant: every block a peer acknowledged was read back from its own store after a restart.</summary>
    public const string NoAcknowledgedBlockLostName = "no-acknowledged-block-lost";

    /// <summary>Name of the invariant: every mine step raised its miner's height before the next step began.</summary>
    public const string HeightGrowsName = "height-grows-with-majority";

    /// <summary>Name of the invariant: every peer's live VM state root equalled its tip's whenever it was observed.</summary>
    public const string LiveStateMatchesTipName = "live-state-matches-tip";

    /// <summary>Name of the invariant: every running peer's chain store and live VM agreed at the end of the run.</summary>
    public const string ChainConsistentName = "chain-consistent";

    /// <summary>Name of the check that the run did every planned step and ended without an error.</summary>
    public const string StepsCompletedName = "steps-completed";

    /// <summary>Every check of a recorded run: its steps, each expect step again, then every invariant.</summary>
    public static IReadOnlyList<CheckResult> Check(RunHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        return [StepsCompleted(history), .. ExpectationChecker.CheckExpectSteps(history), .. CheckInvariants(history)];
    }

    /// <summary>The run did every planned step, each did what it said, and it ended without an error (as the history says).</summary>
    public static CheckResult StepsCompleted(RunHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        const string name = StepsCompletedName;
        var steps = history.Steps;
        var problems = steps.Where(s => !s.Ok).Select(s => $"step {s.Index} ({s.Kind}) failed: {s.Detail}").ToList();
        if (history.End is not { } end)
        {
            problems.Add("the history ends before the run did (no end line)");
        }
        else if (end.Error is { } error)
        {
            problems.Add(error);
        }

        var planned = history.Run?.Steps.Count ?? 0;
        var run = steps.Select(s => s.Index).Where(i => i > 0).Distinct().Count();
        if (problems.Count == 0 && run < planned)
        {
            problems.Add($"{planned - run} of {planned} planned steps were not run");
        }

        return problems.Count == 0
            ? CheckResult.Pass(name, $"{run} steps, each did what it said")
            : CheckResult.Fail(name, string.Join("; ", problems));
    }

    /// <summary>Every invariant over the whole run.</summary>
    public static IReadOnlyList<CheckResult> CheckInvariants(RunHistory history) =>
    [
        NoInvalidBlockAccepted(history),
        NoAcknowledgedBlockLost(history),
        HeightGrowsWithMajority(history),
        LiveStateMatchesTip(history),
        ChainConsistent(history),
    ];

    /// <summary>
    /// No honest peer (any peer but the invalid block's miner) ever accepted a block mined under a byzantine fault: read from
    /// the peers' block logs, so a block accepted and later reorganised away counts, and so does one read back from a store.
    /// </summary>
    public static CheckResult NoInvalidBlockAccepted(RunHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        const string name = NoInvalidBlockAcceptedName;
        var invalid = history.InvalidBlocks.GroupBy(b => b.Hash).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        if (invalid.Count == 0)
        {
            return CheckResult.Pass(name, "no block was mined under a byzantine fault");
        }

        var received = history.Blocks.Where(e => invalid.TryGetValue(e.Hash, out var block) && e.Peer != block.Miner).ToArray();
        var accepted = received.Where(e => e.Accepted).GroupBy(e => (e.Peer, e.Hash)).Select(g => g.OrderBy(e => e.At).First())
            .OrderBy(e => e.At).ThenBy(e => e.Peer, StringComparer.Ordinal).ToArray();
        if (accepted.Length > 0)
        {
            var finalTips = history.Latest();
            return CheckResult.Fail(name, string.Join("; ", accepted.Select(e =>
            {
                var block = invalid[e.Hash];
                var still = finalTips.TryGetValue(e.Peer, out var last) && last.TipHash == e.Hash ? ", still its tip at the end" : "";
                return $"{e.Peer} accepted {block.Fault} block {Short(e.Hash)} (height {block.Height}) from {block.Miner}: " +
                    $"{e.Status} via {e.Via}{(e.From is null ? "" : " from " + e.From)} at {Time(e.PeerAtMs)}{still}";
            })));
        }

        if (received.Length == 0)
        {
            return CheckResult.Fail(name, $"{invalid.Count} invalid blocks were mined but no honest peer was seen receiving any of them: nothing was checked");
        }

        var rejecters = received.Where(e => e.Status == "Rejected").Select(e => e.Peer).Distinct().Order(StringComparer.Ordinal);
        return CheckResult.Pass(name, $"{invalid.Count} invalid blocks; {received.Length} receptions by honest peers ({string.Join(",", rejecters)} rejected), none accepted");
    }

    /// <summary>
    /// Durability measured before resync: every block a peer acknowledged before it restarted (a block it reported as its
    /// tip, said it mined, or logged as stored) must be among the blocks the new process loaded from its own store at
    /// start-up, before it talked to anyone; a block fetched back from the others afterwards does not count.
    /// </summary>
    public static CheckResult NoAcknowledgedBlockLost(RunHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        const string name = NoAcknowledgedBlockLostName;
        var invalid = history.InvalidBlocks.Select(b => b.Hash).ToHashSet(StringComparer.Ordinal);
        var observations = history.Observations;
        var blocks = history.Blocks.DistinctBy(e => (e.Peer, e.Boot, e.Seq)).ToArray();
        var mined = history.Mined;
        var crashes = history.Crashes;
        var gaps = history.Gaps;
        var problems = new List<string>();
        var restarts = 0;
        var checkedBlocks = 0;
        foreach (var peer in history.Peers)
        {
            // A peer's processes in the order they were first seen.
            var boots = observations.Where(o => o.Peer == peer && o.Boot is not null).Select(o => (o.Boot!, o.At))
                .Concat(blocks.Where(e => e.Peer == peer).Select(e => (e.Boot, e.At)))
                .GroupBy(b => b.Item1, StringComparer.Ordinal).Select(g => (Boot: g.Key, First: g.Min(b => b.Item2)))
                .OrderBy(b => b.First).ToList();
            for (var k = 1; k < boots.Count; k++)
            {
                restarts++;
                var (boot, first) = boots[k];
                var earlier = boots.Take(k).Select(b => b.Boot).ToHashSet(StringComparer.Ordinal);
                var acknowledged = new Dictionary<string, (long Height, DateTimeOffset At, string How)>(StringComparer.Ordinal);
                void Acknowledge(string hash, long height, DateTimeOffset at, string how)
                {
                    if (height > 0 && !invalid.Contains(hash) && !acknowledged.ContainsKey(hash))
                    {
                        acknowledged[hash] = (height, at, how);
                    }
                }

                foreach (var e in blocks.Where(e => e.Peer == peer && e.Accepted && earlier.Contains(e.Boot)).OrderBy(e => e.At))
                {
                    Acknowledge(e.Hash, e.Height, e.At, e.Via == "loaded" ? "loaded from its store" : $"{e.Status} via {e.Via}");
                }

                foreach (var m in mined.Where(m => m.Peer == peer && m.At < first && !m.Faulty))
                {
                    Acknowledge(m.Hash, m.Height, m.At, m.Withheld ? "mined, withheld" : "mined");
                }

                foreach (var o in observations.Where(o => o.Peer == peer && o.Answered && o.TipHash is not null && o.Boot is not null && earlier.Contains(o.Boot)))
                {
                    Acknowledge(o.TipHash!, o.Height, o.At, "reported as its tip");
                }

                var crash = crashes.Where(c => c.Peer == peer && c.At <= first && c.At >= boots[k - 1].First).Select(c => (DateTimeOffset?)c.At).LastOrDefault();
                var how = crash is { } at ? $"after its crash at {Time(at)}" : $"after its restart (seen again at {Time(first)})";
                if (acknowledged.Count == 0)
                {
                    continue;
                }

                var newBoot = blocks.Where(e => e.Peer == peer && e.Boot == boot).ToArray();
                var unread = gaps.FirstOrDefault(g => g.Peer == peer && g.Boot == boot);
                var claimed = observations.Where(o => o.Peer == peer && o.Boot == boot).Select(o => o.BlockLogSeq).DefaultIfEmpty(0).Max();
                if (unread is not null || (newBoot.Length == 0 && claimed > 0))
                {
                    problems.Add($"{peer} came back {how} but what it loaded from its store could not be read ({unread?.Why ?? "no block-log entries recorded"}): {acknowledged.Count} acknowledged blocks unchecked");
                    continue;
                }

                var loaded = newBoot.Where(e => e.Via == "loaded").ToArray();
                var loadedHashes = loaded.Select(e => e.Hash).ToHashSet(StringComparer.Ordinal);
                var store = loaded.Length == 0 ? "its store gave back nothing" : $"its store gave back {loaded.Length} blocks up to height {loaded.Max(e => e.Height)}";
                foreach (var (hash, ack) in acknowledged.OrderBy(a => a.Value.Height))
                {
                    checkedBlocks++;
                    if (loadedHashes.Contains(hash))
                    {
                        continue;
                    }

                    var again = blocks.Where(e => e.Peer == peer && e.Hash == hash && e.Accepted && e.At >= first && e.Via != "loaded").OrderBy(e => e.At).FirstOrDefault();
                    problems.Add($"{peer} did not load block {Short(hash)} (height {ack.Height}) from its own store {how}; it had acknowledged it ({ack.How}, seen {Time(ack.At)}); " +
                        store + (again is null ? "" : $"; it fetched the block again via {again.Via}{(again.From is null ? "" : " from " + again.From)} at {Time(again.PeerAtMs)}"));
                }
            }

            // A crash after which the peer never came back leaves what it acknowledged unchecked.
            foreach (var crash in crashes.Where(c => c.Peer == peer && !boots.Any(b => b.First > c.At)))
            {
                var acknowledged = blocks.Count(e => e.Peer == peer && e.Accepted && e.At < crash.At) + mined.Count(m => m.Peer == peer && m.At < crash.At);
                if (acknowledged > 0)
                {
                    problems.Add($"{peer} crashed at {Time(crash.At)} and was not seen again: {acknowledged} acknowledged blocks unchecked");
                }
            }
        }

        if (problems.Count > 0)
        {
            return CheckResult.Fail(name, string.Join("; ", problems));
        }

        return restarts == 0
            ? CheckResult.Pass(name, crashes.Count == 0 ? "no peer restarted" : $"{crashes.Count} crashes, none after the peer had acknowledged a block")
            : CheckResult.Pass(name, $"{restarts} restarts ({crashes.Count} after kill -9); {checkedBlocks} acknowledged blocks all loaded from the peer's own store before it talked to anyone");
    }

    /// <summary>
    /// Every successful mine step, while a majority of peers answered, raised its miner's height to the blocks it reported
    /// before the next step began: a later step cannot make up for an earlier one. Blocks mined under byzantine faults, which
    /// their miner never adds, are left out; a miner not seen again before the next step is not checked.
    /// </summary>
    public static CheckResult HeightGrowsWithMajority(RunHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        const string name = HeightGrowsName;
        var peerCount = history.Peers.Count;
        var invalid = history.InvalidBlocks.Select(b => b.Hash).ToHashSet(StringComparer.Ordinal);
        var observations = history.Observations.Where(o => o.Answered).ToArray();
        var steps = history.Steps.OrderBy(s => s.Started).ThenBy(s => s.Index).ToArray();
        var mined = history.Mined;
        var problems = new List<string>();
        var checkedSteps = 0;
        var skipped = 0;
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            if (step is not { Kind: "mine", Ok: true })
            {
                continue;
            }

            var next = i + 1 < steps.Length ? steps[i + 1] : null;
            var end = next?.Started ?? history.End?.At ?? DateTimeOffset.MaxValue;
            var blocks = mined.Where(m => step.Targets.Contains(m.Peer) && m.At >= step.Started && m.At <= step.Ended && !m.Faulty && !invalid.Contains(m.Hash)).ToArray();
            if (blocks.Length == 0)
            {
                continue;
            }

            var window = observations.Where(o => o.At > step.Started && o.At <= end).ToArray();
            if (window.Select(o => o.Peer).Distinct().Count() * 2 <= peerCount)
            {
                skipped++;
                continue;
            }

            checkedSteps++;
            var until = next is null ? "the end of the run" : $"step {next.Index} ({next.Kind})";
            foreach (var byPeer in blocks.GroupBy(b => b.Peer))
            {
                var highest = byPeer.MaxBy(b => b.Height)!;
                var seen = window.Where(o => o.Peer == byPeer.Key).ToArray();
                if (seen.Length == 0)
                {
                    continue;
                }

                var best = seen.Max(o => o.Height);
                if (best < highest.Height)
                {
                    problems.Add($"step {step.Index} (mine on {byPeer.Key}): {byPeer.Key} reported block {Short(highest.Hash)} at height {highest.Height} " +
                        $"({byPeer.Count()} blocks) but was seen no higher than {best} before {until} (network best {window.Max(o => o.Height)})");
                }
            }
        }

        if (problems.Count > 0)
        {
            return CheckResult.Fail(name, string.Join("; ", problems));
        }

        return CheckResult.Pass(name, $"{checkedSteps} mine steps with a live majority, each followed by its miner at the reported height before the next step" +
            (skipped > 0 ? $" ({skipped} without a live majority not checked)" : ""));
    }

    /// <summary>Whenever a peer answered, the state root of its live VM was its tip's (a drift shows even when every tip agrees).</summary>
    public static CheckResult LiveStateMatchesTip(RunHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        const string name = LiveStateMatchesTipName;
        var reported = history.Observations.Where(o => o.Answered && o.LiveStateRoot is not null && o.StateRoot is not null).ToArray();
        if (reported.Length == 0)
        {
            return history.Observations.Any(o => o.Answered)
                ? CheckResult.Fail(name, "no peer reported its live VM state root: nothing was checked")
                : CheckResult.Pass(name, "no peer answered");
        }

        var drifted = reported.Where(o => o.LiveStateRoot != o.StateRoot).GroupBy(o => o.Peer).OrderBy(g => g.Key, StringComparer.Ordinal).ToArray();
        if (drifted.Length > 0)
        {
            return CheckResult.Fail(name, string.Join("; ", drifted.Select(g =>
            {
                var first = g.OrderBy(o => o.At).First();
                return $"{g.Key}'s live VM state root {Short(first.LiveStateRoot)} is not the root {Short(first.StateRoot)} of its tip {Short(first.TipHash)} (height {first.Height}) " +
                    $"from {Time(first.At)} on ({g.Count()} of {reported.Count(o => o.Peer == g.Key)} observations)";
            })));
        }

        return CheckResult.Pass(name, $"{reported.Length} observations of {reported.Select(o => o.Peer).Distinct().Count()} peers: every live VM state root was its tip's");
    }

    /// <summary>At the end of the run every running peer's chain store and live VM agreed (GET /consistency, a deep check).</summary>
    public static CheckResult ChainConsistent(RunHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        const string name = ChainConsistentName;
        var records = history.Consistency;
        if (records.Count == 0)
        {
            return CheckResult.Fail(name, "no consistency check was recorded at the end of the run");
        }

        var problems = new List<string>();
        foreach (var record in records.OrderBy(r => r.Peer, StringComparer.Ordinal))
        {
            if (!record.Checked && record.Live)
            {
                problems.Add($"{record.Peer} could not be checked: {record.Error}");
            }
            else if (record is { Checked: true, Consistent: false })
            {
                problems.Add($"{record.Peer} (height {record.Height}, tip {Short(record.TipHash)}) is inconsistent: {string.Join("; ", record.Problems)}");
            }
        }

        if (problems.Count > 0)
        {
            return CheckResult.Fail(name, string.Join("; ", problems));
        }

        var checkedPeers = records.Where(r => r.Checked).Select(r => $"{r.Peer} at {r.Height}").ToArray();
        var down = records.Where(r => !r.Checked).Select(r => r.Peer).ToArray();
        return CheckResult.Pass(name, $"{checkedPeers.Length} peers consistent ({string.Join(", ", checkedPeers)})" + (down.Length > 0 ? $"; not running: {string.Join(",", down)}" : ""));
    }

    /// <summary>The first 12 hex digits of a hash, enough to tell blocks apart in a report.</summary>
    public static string Short(string? hash) => hash is null ? "none" : hash.Length <= 12 ? hash : hash[..12];

    internal static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    internal static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);

    private static string Time(long unixMs) => Time(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
}
