using System.Globalization;
using Testbed.Chaos.Scenarios;

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
/// Jepsen-style checks over a recorded <see cref="RunHistory"/>: expectations at a moment (convergence, height, reorgs,
/// rejections, bans) and invariants over the whole run (no invalid block accepted by an honest peer, no acknowledged block
/// lost after a crash, height grows while a majority is connected). Pure: the same history always gives the same verdict.
/// </summary>
public static class InvariantChecker
{
    /// <summary>Checks <paramref name="expectation"/> against the latest observation of each peer in <paramref name="latest"/>.</summary>
    public static CheckResult CheckExpectation(Expectation expectation, IReadOnlyCollection<PeerObservation> latest, RunHistory history)
    {
        ArgumentNullException.ThrowIfNull(expectation);
        var checkedPeers = latest.Where(o => o.Live && !expectation.Exclude.Contains(o.Peer)).OrderBy(o => o.Peer, StringComparer.Ordinal).ToArray();
        var problems = new List<string>();
        var facts = new List<string>();
        var silent = checkedPeers.Where(o => !o.Answered).Select(o => o.Peer).ToArray();
        if (silent.Length > 0)
        {
            problems.Add($"live peers did not answer /status: {string.Join(", ", silent)}");
        }

        var answering = checkedPeers.Where(o => o.Answered).ToArray();
        if (answering.Length == 0)
        {
            problems.Add("no live peer answered");
        }

        if (expectation.Converged == true && answering.Length > 0)
        {
            var groups = answering.GroupBy(o => (o.TipHash, o.StateRoot)).ToArray();
            if (groups.Length > 1)
            {
                problems.Add("not converged: " + string.Join("; ", groups.Select(g =>
                    $"{string.Join(",", g.Select(o => o.Peer))} at height {g.First().Height} tip {Short(g.Key.TipHash)} state {Short(g.Key.StateRoot)}")));
            }
            else
            {
                facts.Add($"{answering.Length} peers on tip {Short(answering[0].TipHash)} at height {answering[0].Height}, state {Short(answering[0].StateRoot)}");
            }
        }

        if (expectation.HeightAtLeast is { } height && answering.Length > 0)
        {
            var low = answering.Where(o => o.Height < height).ToArray();
            if (low.Length > 0)
            {
                problems.Add($"height below {height}: " + string.Join(", ", low.Select(o => $"{o.Peer} at {o.Height}")));
            }
        }

        if (expectation.ReorgsAtLeast is { } reorgs)
        {
            var seen = history.Reorgs.Count;
            (seen >= reorgs ? facts : problems).Add($"{seen} reorgs observed (expected at least {reorgs})" +
                (seen > 0 ? ": " + string.Join(", ", history.Reorgs.Take(5).Select(r => $"{r.Peer} {Short(r.OldTip)}->{Short(r.NewTip)}")) : ""));
        }

        if (expectation.RejectedAtLeast is { } rejected)
        {
            var total = answering.Sum(o => o.Rejected);
            (total >= rejected ? facts : problems).Add($"{total} blocks rejected by {string.Join(",", answering.Select(o => o.Peer))} (expected at least {rejected})");
        }

        if (expectation.BannedAtLeast is { } banned)
        {
            var total = answering.Sum(o => o.Banned);
            (total >= banned ? facts : problems).Add($"{total} bans by {string.Join(",", answering.Select(o => o.Peer))} (expected at least {banned})");
        }

        if (expectation.MempoolAtMost is { } pending && answering.Length > 0)
        {
            var full = answering.Where(o => o.Mempool > pending).ToArray();
            (full.Length == 0 ? facts : problems).Add(full.Length == 0
                ? $"mempools at most {pending}"
                : $"mempool above {pending}: " + string.Join(", ", full.Select(o => $"{o.Peer} with {o.Mempool}")));
        }

        return problems.Count == 0
            ? CheckResult.Pass("expect", string.Join("; ", facts))
            : CheckResult.Fail("expect", string.Join("; ", problems));
    }

    /// <summary>Every invariant over the whole run.</summary>
    public static IReadOnlyList<CheckResult> CheckInvariants(RunHistory history, int peerCount) =>
    [
        NoInvalidBlockAccepted(history),
        NoAcknowledgedBlockLost(history),
        HeightGrowsWithMajority(history, peerCount),
    ];

    /// <summary>No honest peer (any peer but the invalid block's miner) has an invalid block on its main chain.</summary>
    public static CheckResult NoInvalidBlockAccepted(RunHistory history)
    {
        const string name = "no-invalid-block-accepted";
        var invalid = history.InvalidBlocks;
        if (invalid.Count == 0)
        {
            return CheckResult.Pass(name, "no block was mined under a byzantine fault");
        }

        var accepted = (
            from block in invalid
            join lookup in history.Lookups on block.Hash equals lookup.Hash
            where lookup.Peer != block.Miner && lookup.OnMainChain
            select $"{lookup.Peer} accepted {block.Fault} block {Short(block.Hash)} (height {block.Height}) from {block.Miner}").ToArray();
        var honestLookups = history.Lookups.Count(l => invalid.Any(b => b.Hash == l.Hash && b.Miner != l.Peer));
        if (accepted.Length > 0)
        {
            return CheckResult.Fail(name, string.Join("; ", accepted));
        }

        return honestLookups == 0
            ? CheckResult.Fail(name, $"{invalid.Count} invalid blocks were mined but no honest peer was asked about them")
            : CheckResult.Pass(name, $"{invalid.Count} invalid blocks, checked on {honestLookups} honest peer lookups: none on a main chain");
    }

    /// <summary>Every tip a peer reported before a kill -9 is still known to it at the end (it may be off the main chain after a reorg, never lost).</summary>
    public static CheckResult NoAcknowledgedBlockLost(RunHistory history)
    {
        const string name = "no-acknowledged-block-lost";
        var crashes = history.Crashes;
        if (crashes.Count == 0)
        {
            return CheckResult.Pass(name, "no peer crashed");
        }

        var lost = new List<string>();
        var checkedCount = 0;
        var acknowledgedCount = 0;
        foreach (var crash in crashes)
        {
            foreach (var hash in AcknowledgedBefore(history, crash))
            {
                acknowledgedCount++;
                var lookup = history.Lookups.FirstOrDefault(l => l.Peer == crash.Peer && l.Hash == hash.Hash);
                if (lookup is null)
                {
                    continue;
                }

                checkedCount++;
                if (!lookup.Known)
                {
                    lost.Add($"{crash.Peer} lost block {Short(hash.Hash)} (height {hash.Height}) it had acknowledged before its crash at {crash.At:HH:mm:ss.fff}");
                }
            }
        }

        if (lost.Count > 0)
        {
            return CheckResult.Fail(name, string.Join("; ", lost));
        }

        if (acknowledgedCount == 0)
        {
            return CheckResult.Pass(name, $"{crashes.Count} crashes, none after the peer had acknowledged a block");
        }

        return checkedCount == 0
            ? CheckResult.Fail(name, $"{crashes.Count} crashes after {acknowledgedCount} acknowledged blocks, but none was looked up afterwards (the peers did not come back)")
            : CheckResult.Pass(name, $"{crashes.Count} crashes; {checkedCount} acknowledged blocks all still known");
    }

    /// <summary>The blocks <paramref name="crash"/>'s peer acknowledged before it: tips it reported and blocks it said it mined.</summary>
    public static IReadOnlyList<(string Hash, long Height)> AcknowledgedBefore(RunHistory history, CrashRecord crash)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(crash);
        var tips = history.Observations
            .Where(o => o.Peer == crash.Peer && o.At < crash.At && o.Answered && o.TipHash is not null && o.Height > 0)
            .Select(o => (o.TipHash!, o.Height));
        var mined = history.Mined.Where(m => m.Peer == crash.Peer && m.At < crash.At).Select(m => (m.Hash, m.Height));
        return [.. tips.Concat(mined).Distinct().OrderByDescending(t => t.Item2).Take(32)];
    }

    /// <summary>After each successful mine step, while a majority of peers was live, the best observed height rose above its level before the step.</summary>
    public static CheckResult HeightGrowsWithMajority(RunHistory history, int peerCount)
    {
        const string name = "height-grows-with-majority";
        var observations = history.Observations;
        var problems = new List<string>();
        var checkedSteps = 0;
        foreach (var step in history.Steps.Where(s => s is { Kind: "mine", Ok: true }))
        {
            var before = observations.Where(o => o.At <= step.Started && o.Answered).Select(o => o.Height).DefaultIfEmpty(0).Max();
            var after = observations.Where(o => o.At >= step.Ended && o.Answered).ToArray();
            var livePeers = after.Select(o => o.Peer).Distinct().Count();
            if (livePeers * 2 <= peerCount)
            {
                continue;
            }

            checkedSteps++;
            var best = after.Select(o => o.Height).DefaultIfEmpty(0).Max();
            if (best <= before)
            {
                problems.Add($"step {step.Index} (mine on {string.Join(",", step.Targets)}): best height stayed at {best} (was {before} before the step)");
            }
        }

        return problems.Count > 0
            ? CheckResult.Fail(name, string.Join("; ", problems))
            : CheckResult.Pass(name, $"{checkedSteps} mine steps with a live majority, each followed by a higher best height");
    }

    /// <summary>The first 12 hex digits of a hash, enough to tell blocks apart in a report.</summary>
    public static string Short(string? hash) => hash is null ? "none" : hash.Length <= 12 ? hash : hash[..12];

    internal static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
