using Testbed.Chaos.Checking;
using Testbed.Chaos.Scenarios;

namespace Testbed.Chaos.Tests.Checking;

/// <summary>The checker on recorded histories: good ones pass, bad ones fail naming the peers and blocks involved.</summary>
public sealed class InvariantCheckerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 4, 0, 0, TimeSpan.Zero);
    private const string TipA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string TipB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    private const string Root1 = "1111111111111111111111111111111111111111111111111111111111111111";
    private const string Root2 = "2222222222222222222222222222222222222222222222222222222222222222";

    private static PeerObservation Seen(double seconds, string peer, long height, string tip, string root = Root1, bool live = true, bool answered = true, long rejected = 0, int banned = 0, int mempool = 0) =>
        new(T0.AddSeconds(seconds), peer, live, answered, height, answered ? tip : null, answered ? root : null, rejected, banned, 2, mempool);

    private static Expectation Converged(params string[] exclude) => new(true, TimeSpan.FromSeconds(10), null, null, null, null, null, exclude);

    [Fact]
    public void Converged_peers_pass()
    {
        var result = InvariantChecker.CheckExpectation(Converged(), [Seen(1, "peer-1", 3, TipA), Seen(1, "peer-2", 3, TipA)], new RunHistory());
        Assert.True(result.Ok, result.Detail);
        Assert.Contains("2 peers on tip aaaaaaaaaaaa at height 3", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Diverged_tips_fail_naming_each_group_of_peers_and_its_tip()
    {
        var result = InvariantChecker.CheckExpectation(Converged(), [Seen(1, "peer-1", 3, TipA), Seen(1, "peer-2", 3, TipA), Seen(1, "peer-3", 4, TipB)], new RunHistory());
        Assert.False(result.Ok);
        Assert.Contains("peer-1,peer-2 at height 3 tip aaaaaaaaaaaa", result.Detail, StringComparison.Ordinal);
        Assert.Contains("peer-3 at height 4 tip bbbbbbbbbbbb", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Same_tip_with_a_different_state_root_is_not_converged()
    {
        var result = InvariantChecker.CheckExpectation(Converged(), [Seen(1, "peer-1", 3, TipA, Root1), Seen(1, "peer-2", 3, TipA, Root2)], new RunHistory());
        Assert.False(result.Ok);
        Assert.Contains("state 222222222222", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Dead_and_excluded_peers_are_not_checked_but_a_silent_live_peer_fails()
    {
        var dead = Seen(1, "peer-3", 1, TipB, live: false, answered: false);
        Assert.True(InvariantChecker.CheckExpectation(Converged(), [Seen(1, "peer-1", 3, TipA), dead], new RunHistory()).Ok);
        Assert.True(InvariantChecker.CheckExpectation(Converged("peer-2"), [Seen(1, "peer-1", 3, TipA), Seen(1, "peer-2", 9, TipB)], new RunHistory()).Ok);

        var silent = InvariantChecker.CheckExpectation(Converged(), [Seen(1, "peer-1", 3, TipA), Seen(1, "peer-2", 0, TipA, answered: false)], new RunHistory());
        Assert.False(silent.Ok);
        Assert.Contains("did not answer /status: peer-2", silent.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Height_reorgs_rejections_and_bans_are_counted()
    {
        var history = new RunHistory();
        history.Add(new ReorgRecord(T0, "peer-1", TipA, TipB, 3, 4));
        var observations = new[] { Seen(1, "peer-1", 4, TipB, rejected: 2, banned: 1), Seen(1, "peer-2", 4, TipB, rejected: 1, mempool: 3) };

        var good = new Expectation(true, TimeSpan.FromSeconds(5), 4, 1, 3, 1, 3, []);
        Assert.True(InvariantChecker.CheckExpectation(good, observations, history).Ok);

        var tooHigh = InvariantChecker.CheckExpectation(good with { HeightAtLeast = 5 }, observations, history);
        Assert.False(tooHigh.Ok);
        Assert.Contains("height below 5: peer-1 at 4, peer-2 at 4", tooHigh.Detail, StringComparison.Ordinal);
        var reorgs = InvariantChecker.CheckExpectation(good with { ReorgsAtLeast = 2 }, observations, history);
        Assert.False(reorgs.Ok);
        Assert.Contains("1 reorgs observed (expected at least 2): peer-1 aaaaaaaaaaaa->bbbbbbbbbbbb", reorgs.Detail, StringComparison.Ordinal);
        Assert.False(InvariantChecker.CheckExpectation(good with { RejectedAtLeast = 4 }, observations, history).Ok);
        Assert.False(InvariantChecker.CheckExpectation(good with { BannedAtLeast = 2 }, observations, history).Ok);
        var pending = InvariantChecker.CheckExpectation(good with { MempoolAtMost = 0 }, observations, history);
        Assert.False(pending.Ok);
        Assert.Contains("mempool above 0: peer-2 with 3", pending.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_block_on_an_honest_main_chain_fails_naming_peer_block_and_miner()
    {
        var history = new RunHistory();
        history.Add(new InvalidBlockRecord("peer-4", TipB, 3, "wrong-key"));
        history.Add(new BlockLookup("peer-1", TipB, Known: false, OnMainChain: false));
        history.Add(new BlockLookup("peer-2", TipB, Known: true, OnMainChain: false));
        history.Add(new BlockLookup("peer-4", TipB, Known: true, OnMainChain: true));
        Assert.True(InvariantChecker.NoInvalidBlockAccepted(history).Ok);

        history.Add(new BlockLookup("peer-3", TipB, Known: true, OnMainChain: true));
        var result = InvariantChecker.NoInvalidBlockAccepted(history);
        Assert.False(result.Ok);
        Assert.Equal("peer-3 accepted wrong-key block bbbbbbbbbbbb (height 3) from peer-4", result.Detail);
    }

    [Fact]
    public void Invalid_blocks_nobody_was_asked_about_fail_rather_than_pass_unchecked()
    {
        var history = new RunHistory();
        history.Add(new InvalidBlockRecord("peer-4", TipB, 3, "low-work"));
        Assert.False(InvariantChecker.NoInvalidBlockAccepted(history).Ok);
        Assert.True(InvariantChecker.NoInvalidBlockAccepted(new RunHistory()).Ok);
    }

    [Fact]
    public void A_block_acknowledged_before_a_crash_and_unknown_afterwards_is_reported_lost()
    {
        var history = new RunHistory();
        history.Add(Seen(1, "peer-1", 2, TipA));
        history.Add(new MinedRecord(T0.AddSeconds(2), "peer-1", TipB, 3));
        history.Add(new CrashRecord(T0.AddSeconds(3), "peer-1"));
        history.Add(Seen(4, "peer-1", 5, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"));

        var acknowledged = InvariantChecker.AcknowledgedBefore(history, history.Crashes[0]);
        Assert.Equal([TipB, TipA], acknowledged.Select(a => a.Hash));

        history.Add(new BlockLookup("peer-1", TipA, Known: true, OnMainChain: true));
        history.Add(new BlockLookup("peer-1", TipB, Known: true, OnMainChain: false));
        Assert.True(InvariantChecker.NoAcknowledgedBlockLost(history).Ok);

        var bad = new RunHistory();
        bad.Add(Seen(1, "peer-1", 2, TipA));
        bad.Add(new CrashRecord(T0.AddSeconds(3), "peer-1"));
        bad.Add(new BlockLookup("peer-1", TipA, Known: false, OnMainChain: false));
        var result = InvariantChecker.NoAcknowledgedBlockLost(bad);
        Assert.False(result.Ok);
        Assert.StartsWith("peer-1 lost block aaaaaaaaaaaa (height 2) it had acknowledged before its crash", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_crash_without_lookups_fails_rather_than_passing_unchecked()
    {
        var history = new RunHistory();
        history.Add(Seen(1, "peer-1", 2, TipA));
        history.Add(new CrashRecord(T0.AddSeconds(3), "peer-1"));
        Assert.False(InvariantChecker.NoAcknowledgedBlockLost(history).Ok);

        // A crash before the peer acknowledged anything has nothing to lose.
        var early = new RunHistory();
        early.Add(Seen(1, "peer-1", 0, TipA));
        early.Add(new CrashRecord(T0.AddSeconds(3), "peer-1"));
        Assert.True(InvariantChecker.NoAcknowledgedBlockLost(early).Ok);
    }

    [Fact]
    public void Height_must_grow_after_a_mine_step_while_a_majority_is_live()
    {
        var good = new RunHistory();
        good.Add(Seen(0, "peer-1", 2, TipA));
        good.Add(Seen(0, "peer-2", 2, TipA));
        good.Add(new StepRecord(1, "mine", ["peer-1"], T0.AddSeconds(1), T0.AddSeconds(2), true, ""));
        good.Add(Seen(3, "peer-1", 3, TipB));
        good.Add(Seen(3, "peer-2", 2, TipA));
        Assert.True(InvariantChecker.HeightGrowsWithMajority(good, 3).Ok);

        var bad = new RunHistory();
        bad.Add(Seen(0, "peer-1", 2, TipA));
        bad.Add(Seen(0, "peer-2", 2, TipA));
        bad.Add(new StepRecord(4, "mine", ["peer-1"], T0.AddSeconds(1), T0.AddSeconds(2), true, ""));
        bad.Add(Seen(3, "peer-1", 2, TipA));
        bad.Add(Seen(3, "peer-2", 2, TipA));
        var result = InvariantChecker.HeightGrowsWithMajority(bad, 3);
        Assert.False(result.Ok);
        Assert.Equal("step 4 (mine on peer-1): best height stayed at 2 (was 2 before the step)", result.Detail);

        // Only one of three peers answering afterwards: no majority, nothing to require.
        var minority = new RunHistory();
        minority.Add(Seen(0, "peer-1", 2, TipA));
        minority.Add(new StepRecord(1, "mine", ["peer-1"], T0.AddSeconds(1), T0.AddSeconds(2), true, ""));
        minority.Add(Seen(3, "peer-1", 2, TipA));
        Assert.True(InvariantChecker.HeightGrowsWithMajority(minority, 3).Ok);
    }

    [Fact]
    public void The_history_keeps_the_latest_observation_per_peer_and_bounds_its_size()
    {
        var history = new RunHistory();
        history.Add(Seen(1, "peer-1", 1, TipA));
        history.Add(Seen(2, "peer-1", 2, TipB));
        history.Add(Seen(1, "peer-2", 1, TipA));
        var latest = history.Latest();
        Assert.Equal(2, latest["peer-1"].Height);
        Assert.Equal(1, latest["peer-2"].Height);

        for (var i = 0; i < RunHistory.MaxObservations + 5; i++)
        {
            history.Add(Seen(i, "peer-3", i, TipA));
        }

        Assert.Equal(RunHistory.MaxObservations, history.Observations.Count);
    }
}
