using Testbed.Chaos.Scenarios;

namespace Testbed.Chaos.Checking;

/// <summary>
/// Checks a scenario's expect steps: one expectation against one poll of the peers (as the run does while the step waits),
/// and every expect step of a recorded run again from its history. The whole-run invariants are <see cref="InvariantChecker"/>'s.
/// </summary>
public static class ExpectationChecker
{
    /// <summary>
    /// Checks <paramref name="expectation"/> against one observation of each peer (<paramref name="latest"/>) and the events
    /// of <paramref name="history"/> between <paramref name="since"/> (the previous expect step) and <paramref name="until"/>.
    /// </summary>
    public static CheckResult CheckExpectation(Expectation expectation, IReadOnlyCollection<PeerObservation> latest, RunHistory history, DateTimeOffset since, DateTimeOffset until)
    {
        ArgumentNullException.ThrowIfNull(expectation);
        ArgumentNullException.ThrowIfNull(latest);
        ArgumentNullException.ThrowIfNull(history);
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
            // The live VM's root, not the tip header's: a peer whose state drifted while its tip agrees is not converged.
            var groups = answering.GroupBy(o => (o.TipHash, o.EffectiveStateRoot)).ToArray();
            if (groups.Length > 1)
            {
                problems.Add("not converged: " + string.Join("; ", groups.Select(g =>
                    $"{string.Join(",", g.Select(o => o.Peer))} at height {g.First().Height} tip {InvariantChecker.Short(g.Key.TipHash)} state {InvariantChecker.Short(g.Key.EffectiveStateRoot)}" +
                    (g.First() is { LiveStateRoot: { } live, StateRoot: { } header } && live != header ? $" (its tip's header says {InvariantChecker.Short(header)})" : ""))));
            }
            else
            {
                facts.Add($"{answering.Length} peers on tip {InvariantChecker.Short(answering[0].TipHash)} at height {answering[0].Height}, state {InvariantChecker.Short(answering[0].EffectiveStateRoot)}" +
                    (answering.All(o => o.LiveStateRoot is not null) ? " (live VM roots)" : " (tip header roots)"));
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
            var window = history.Reorgs.Where(r => r.At >= since && r.At <= until).ToArray();
            (window.Length >= reorgs ? facts : problems).Add($"{window.Length} reorgs observed since {InvariantChecker.Time(since)} (expected at least {reorgs})" +
                (window.Length > 0 ? ": " + string.Join(", ", window.Take(5).Select(r => $"{r.Peer} {InvariantChecker.Short(r.OldTip)}->{InvariantChecker.Short(r.NewTip)}")) : ""));
        }

        if (expectation.RejectedAtLeast is { } rejected)
        {
            var total = answering.Sum(o => RejectedSince(history, o, since));
            (total >= rejected ? facts : problems).Add($"{total} blocks rejected by {string.Join(",", answering.Select(o => o.Peer))} since {InvariantChecker.Time(since)} (expected at least {rejected})");
        }

        if (expectation.BannedAtLeast is { } banned)
        {
            // Bans are a state (the peers banned now), not events: a ban made before the previous step and still in force counts.
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

        if (expectation.ConnectedAtLeast is { } connected)
        {
            var few = answering.Where(o => o.ConnectedPeers < connected).ToArray();
            (answering.Length > 0 && few.Length == 0 ? facts : problems).Add(few.Length == 0
                ? $"{answering.Length} peers each connected to at least {connected}"
                : $"connected to fewer than {connected}: " + string.Join(", ", few.Select(o => $"{o.Peer} to {o.ConnectedPeers}")));
        }

        if (expectation.InvalidRejected == true)
        {
            CheckInvalidRejected(history, [.. checkedPeers.Select(o => o.Peer)], until, problems, facts);
        }

        return problems.Count == 0
            ? CheckResult.Pass("expect", string.Join("; ", facts))
            : CheckResult.Fail("expect", string.Join("; ", problems));
    }

    /// <summary>
    /// Blocks <paramref name="now"/>'s peer rejected since <paramref name="since"/>: its counter now less the counter of its last
    /// observation at or before then in the same process (a restarted process counts from zero, so all of its count is new).
    /// </summary>
    private static long RejectedSince(RunHistory history, PeerObservation now, DateTimeOffset since)
    {
        var before = history.Observations
            .Where(o => o.Peer == now.Peer && o.Answered && o.Boot == now.Boot && o.At <= since)
            .MaxBy(o => o.At);
        return now.Rejected - (before?.Rejected ?? 0);
    }

    /// <summary>
    /// Every expect step of the run again, from the history alone: it held if one of the polls made while it waited (between
    /// its start and its end) satisfies it, counting events (reorgs, block-log entries) from the end of the previous expect
    /// step to the end of this one. Named <c>step-N-expect</c>. Steps the run never reached are not checked.
    /// </summary>
    public static IReadOnlyList<CheckResult> CheckExpectSteps(RunHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Run is not { } run)
        {
            return [CheckResult.Fail("expect-steps", "the history has no run header: the steps' expectations are unknown")];
        }

        var records = history.Steps;
        var observations = history.Observations;
        var results = new List<CheckResult>();
        var since = run.At;
        foreach (var planned in run.Steps.OrderBy(s => s.Index))
        {
            if (planned.Expectation is not { } expectation || records.FirstOrDefault(r => r.Index == planned.Index) is not { } record)
            {
                continue;
            }

            var name = $"step-{planned.Index}-expect";
            var polls = observations.Where(o => o.Poll > 0 && o.At >= record.Started && o.At <= record.Ended)
                .GroupBy(o => o.Poll).OrderBy(g => g.Key).ToArray();
            CheckResult? last = null;
            foreach (var poll in polls)
            {
                // Events up to the step's end: a reorg seen while this poll ran is recorded just after its observations.
                last = CheckExpectation(expectation, [.. poll], history, since, record.Ended);
                if (last.Ok)
                {
                    break;
                }
            }

            results.Add(last switch
            {
                null => CheckResult.Fail(name, $"no poll of the peers was recorded while step {planned.Index} waited"),
                { Ok: true } => CheckResult.Pass(name, last.Detail),
                _ => CheckResult.Fail(name, $"did not hold in any of {polls.Length} polls between {InvariantChecker.Time(record.Started)} and {InvariantChecker.Time(record.Ended)}; the last: {last.Detail}"),
            });
            since = record.Ended;
        }

        return results;
    }

    private static void CheckInvalidRejected(RunHistory history, IReadOnlyList<string> checkedPeers, DateTimeOffset until, List<string> problems, List<string> facts)
    {
        var invalid = history.InvalidBlocks.Where(b => b.At <= until).ToArray();
        if (invalid.Length == 0)
        {
            problems.Add("no invalid block was mined");
            return;
        }

        var events = history.Blocks.Where(e => e.At <= until && checkedPeers.Contains(e.Peer)).ToArray();
        var rejections = 0;
        foreach (var block in invalid)
        {
            var byPeer = events.Where(e => e.Hash == block.Hash && e.Peer != block.Miner).GroupBy(e => e.Peer).OrderBy(g => g.Key, StringComparer.Ordinal).ToArray();
            var what = $"{block.Fault} block {InvariantChecker.Short(block.Hash)} (height {block.Height}) from {block.Miner}";
            var accepted = byPeer.Where(g => g.Any(e => e.Accepted)).Select(g => g.Key).ToArray();
            var undecided = byPeer.Where(g => g.All(e => !e.Accepted && e.Status != "Rejected")).Select(g => g.Key).ToArray();
            var rejected = byPeer.Where(g => g.Any(e => e.Status == "Rejected") && !g.Any(e => e.Accepted)).Select(g => g.Key).ToArray();
            rejections += rejected.Length;
            if (accepted.Length > 0)
            {
                problems.Add($"{what} accepted by {string.Join(",", accepted)}");
            }

            if (undecided.Length > 0)
            {
                problems.Add($"{what} received but neither accepted nor rejected by {string.Join(",", undecided)}");
            }

            facts.Add(byPeer.Length == 0 ? $"{what} received by no checked peer" : $"{what} rejected by {string.Join(",", rejected)}");
        }

        if (rejections == 0)
        {
            problems.Add($"no checked peer ({string.Join(",", checkedPeers)}) has received and rejected any of the {invalid.Length} invalid blocks yet");
        }
    }
}
