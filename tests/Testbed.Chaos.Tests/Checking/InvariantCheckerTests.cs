using static Testbed.Chaos.Tests.Checking.HistoryValues;

namespace Testbed.Chaos.Tests.Checking;

/// <summary>
/// The checker on hand-made histories: good ones pass, and each way a broken peer shows in a history (the four defects of
/// the broken-peer mode and the cases the old checks missed) fails, naming the peers and blocks involved.
/// </summary>
public sealed class InvariantCheckerTests
{
    private static DateTimeOffset At(double seconds) => T0.AddMilliseconds(Math.Round(seconds * 1000));

    private static PeerObservation Seen(double seconds, string peer, long height, string tip, string root = Root1, bool live = true, bool answered = true,
        long rejected = 0, int banned = 0, int mempool = 0, string? liveRoot = null, string boot = "boot-1", int poll = 0) =>
        new(At(seconds), peer, live, answered, height, answered ? tip : null, answered ? root : null, rejected, banned, 2, mempool,
            answered ? liveRoot ?? root : null, answered ? boot : null, 0, poll);

    private static BlockEvent Logged(double seconds, string peer, string boot, long seq, string hash, long height, string via, string status = "Connected", string? from = null) =>
        new(At(seconds), peer, boot, seq, At(seconds).ToUnixTimeMilliseconds(), hash, height, via, status, status is "Connected" or "SideBranch" or "Reorganized" or "Loaded", status == "Rejected" ? "BadSignature: no" : null, from);

    private static Expectation Converged(params string[] exclude) => new(true, TimeSpan.FromSeconds(10), null, null, null, null, null, exclude);

    private static CheckResult Expect(Expectation expectation, IReadOnlyCollection<PeerObservation> latest, RunHistory? history = null) =>
        ExpectationChecker.CheckExpectation(expectation, latest, history ?? new RunHistory(), T0, At(1000));

    [Fact]
    public void Converged_peers_pass()
    {
        var result = Expect(Converged(), [Seen(1, "peer-1", 3, TipA), Seen(1, "peer-2", 3, TipA)]);
        Assert.True(result.Ok, result.Detail);
        Assert.Contains("2 peers on tip aaaaaaaaaaaa at height 3", result.Detail, StringComparison.Ordinal);
        Assert.Contains("(live VM roots)", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Diverged_tips_fail_naming_each_group_of_peers_and_its_tip()
    {
        var result = Expect(Converged(), [Seen(1, "peer-1", 3, TipA), Seen(1, "peer-2", 3, TipA), Seen(1, "peer-3", 4, TipB)]);
        Assert.False(result.Ok);
        Assert.Contains("peer-1,peer-2 at height 3 tip aaaaaaaaaaaa", result.Detail, StringComparison.Ordinal);
        Assert.Contains("peer-3 at height 4 tip bbbbbbbbbbbb", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Same_tip_and_header_root_with_a_drifted_live_state_is_not_converged()
    {
        // Both tips' headers say Root1; peer-2's live VM says Root2 (corrupt-state-after-reorg). The old check compared header roots.
        var result = Expect(Converged(), [Seen(1, "peer-1", 3, TipA), Seen(1, "peer-2", 3, TipA, liveRoot: Root2)]);
        Assert.False(result.Ok);
        Assert.Contains("peer-2 at height 3 tip aaaaaaaaaaaa state 222222222222 (its tip's header says 111111111111)", result.Detail, StringComparison.Ordinal);

        var header = Expect(Converged(), [Seen(1, "peer-1", 3, TipA, Root1), Seen(1, "peer-2", 3, TipA, Root2)]);
        Assert.False(header.Ok);
    }

    [Fact]
    public void Dead_and_excluded_peers_are_not_checked_but_a_silent_live_peer_fails()
    {
        var dead = Seen(1, "peer-3", 1, TipB, live: false, answered: false);
        Assert.True(Expect(Converged(), [Seen(1, "peer-1", 3, TipA), dead]).Ok);
        Assert.True(Expect(Converged("peer-2"), [Seen(1, "peer-1", 3, TipA), Seen(1, "peer-2", 9, TipB)]).Ok);

        var silent = Expect(Converged(), [Seen(1, "peer-1", 3, TipA), Seen(1, "peer-2", 0, TipA, answered: false)]);
        Assert.False(silent.Ok);
        Assert.Contains("did not answer /status: peer-2", silent.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Height_rejections_bans_and_mempools_are_checked()
    {
        var observations = new[] { Seen(1, "peer-1", 4, TipB, rejected: 2, banned: 1), Seen(1, "peer-2", 4, TipB, rejected: 1, mempool: 3) };
        var good = new Expectation(true, TimeSpan.FromSeconds(5), 4, null, 3, 1, 3, []);
        Assert.True(Expect(good, observations).Ok);

        var tooHigh = Expect(good with { HeightAtLeast = 5 }, observations);
        Assert.False(tooHigh.Ok);
        Assert.Contains("height below 5: peer-1 at 4, peer-2 at 4", tooHigh.Detail, StringComparison.Ordinal);
        Assert.False(Expect(good with { RejectedAtLeast = 4 }, observations).Ok);
        Assert.False(Expect(good with { BannedAtLeast = 2 }, observations).Ok);
        var pending = Expect(good with { MempoolAtMost = 0 }, observations);
        Assert.False(pending.Ok);
        Assert.Contains("mempool above 0: peer-2 with 3", pending.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Connections_are_checked_on_every_live_peer()
    {
        // Seen gives every peer 2 swarm connections.
        var observations = new[] { Seen(1, "peer-1", 4, TipB), Seen(1, "peer-2", 4, TipB), Seen(1, "peer-3", 0, TipB, live: false) };
        var connected = new Expectation(null, TimeSpan.FromSeconds(5), null, null, null, null, null, [], ConnectedAtLeast: 2);
        Assert.True(Expect(connected, observations).Ok);

        var more = Expect(connected with { ConnectedAtLeast = 3 }, observations);
        Assert.False(more.Ok);
        Assert.Contains("connected to fewer than 3: peer-1 to 2, peer-2 to 2", more.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Reorgs_are_counted_between_the_previous_expect_step_and_this_one_not_since_the_start()
    {
        var history = new RunHistory();
        history.Add(new ReorgRecord(At(5), "peer-1", TipA, TipB, 3, 4));
        var observations = new[] { Seen(20, "peer-1", 4, TipB) };
        var expectation = new Expectation(null, TimeSpan.FromSeconds(5), null, 1, null, null, null, []);

        Assert.True(ExpectationChecker.CheckExpectation(expectation, observations, history, T0, At(20)).Ok);
        // A reorg from before the previous expect step (ended at 10 s) does not satisfy a later one.
        var stale = ExpectationChecker.CheckExpectation(expectation, observations, history, At(10), At(20));
        Assert.False(stale.Ok);
        Assert.Contains("0 reorgs observed since 04:00:10.000 (expected at least 1)", stale.Detail, StringComparison.Ordinal);
        // Nor does one that happens after the poll being judged.
        Assert.False(ExpectationChecker.CheckExpectation(expectation, observations, history, T0, At(4)).Ok);
    }

    [Fact]
    public void Rejections_are_counted_since_the_previous_expect_step_in_the_same_process()
    {
        // peer-1 rejected 2 blocks before the previous expect step ended (10 s) and 1 after; peer-2 restarted (new boot)
        // after it and has rejected 1 since, all of it new.
        var history = new RunHistory();
        history.Add(Seen(8, "peer-1", 3, TipA, rejected: 2));
        history.Add(Seen(8, "peer-2", 3, TipA, rejected: 5));
        var observations = new[] { Seen(20, "peer-1", 4, TipB, rejected: 3), Seen(20, "peer-2", 4, TipB, rejected: 1, boot: "boot-2") };
        var expectation = new Expectation(null, TimeSpan.FromSeconds(5), null, null, 2, null, null, []);

        var held = ExpectationChecker.CheckExpectation(expectation, observations, history, At(10), At(20));
        Assert.True(held.Ok, held.Detail);
        Assert.Contains("2 blocks rejected by peer-1,peer-2 since 04:00:10.000", held.Detail, StringComparison.Ordinal);
        // Three rejections happened, but only two since the previous step: the earlier ones do not satisfy a later step.
        var stale = ExpectationChecker.CheckExpectation(expectation with { RejectedAtLeast = 3 }, observations, history, At(10), At(20));
        Assert.False(stale.Ok);
        Assert.Contains("2 blocks rejected", stale.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_rejected_needs_every_honest_receiver_to_reject_and_at_least_one_rejection()
    {
        var expectation = new Expectation(null, TimeSpan.FromSeconds(5), null, null, null, null, null, ["peer-4"], InvalidRejected: true);
        var observations = new[] { Seen(9, "peer-1", 2, TipA), Seen(9, "peer-2", 2, TipA), Seen(9, "peer-3", 2, TipA), Seen(9, "peer-4", 2, TipA) };

        Assert.Contains("no invalid block was mined", Expect(expectation, observations).Detail, StringComparison.Ordinal);

        var history = new RunHistory();
        history.Add(new InvalidBlockRecord("peer-4", Bad, 3, "wrong-key", At(2)));
        history.Add(new InvalidBlockRecord("peer-4", TipC, 3, "low-work", At(3)));
        var none = Expect(expectation, observations, history);
        Assert.False(none.Ok);
        Assert.Contains("no checked peer (peer-1,peer-2,peer-3) has received and rejected any of the 2 invalid blocks yet", none.Detail, StringComparison.Ordinal);

        history.Add(Logged(4, "peer-1", "b1", 3, Bad, 3, "announce", "Rejected", "peer-4"));
        history.Add(Logged(4, "peer-2", "b2", 3, Bad, 3, "announce", "Rejected", "peer-4"));
        var good = Expect(expectation, observations, history);
        Assert.True(good.Ok, good.Detail);
        Assert.Contains("wrong-key block dddddddddddd (height 3) from peer-4 rejected by peer-1,peer-2", good.Detail, StringComparison.Ordinal);
        Assert.Contains("low-work block cccccccccccc (height 3) from peer-4 received by no checked peer", good.Detail, StringComparison.Ordinal);

        history.Add(Logged(5, "peer-3", "b3", 3, Bad, 3, "announce", "Connected", "peer-4"));
        var bad = Expect(expectation, observations, history);
        Assert.False(bad.Ok);
        Assert.Contains("wrong-key block dddddddddddd (height 3) from peer-4 accepted by peer-3", bad.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_block_accepted_and_later_reorganised_away_still_fails_naming_peer_block_and_miner()
    {
        var history = new RunHistory();
        history.Add(new InvalidBlockRecord("peer-4", Bad, 3, "wrong-key", At(2)));
        history.Add(Logged(3, "peer-1", "b1", 5, Bad, 3, "announce", "Rejected", "peer-4"));
        history.Add(Logged(3, "peer-4", "b4", 5, Bad, 3, "mined", "Connected"));
        var good = InvariantChecker.NoInvalidBlockAccepted(history);
        Assert.True(good.Ok, good.Detail);
        Assert.Contains("(peer-1 rejected), none accepted", good.Detail, StringComparison.Ordinal);

        // peer-3 takes it, then reorganises onto a heavier chain without it: its final main chain is clean, the log is not.
        history.Add(Logged(3.5, "peer-3", "b3", 5, Bad, 3, "announce", "Connected", "peer-4"));
        history.Add(Seen(9, "peer-3", 4, TipC));
        var result = InvariantChecker.NoInvalidBlockAccepted(history);
        Assert.False(result.Ok);
        Assert.Equal("peer-3 accepted wrong-key block dddddddddddd (height 3) from peer-4: Connected via announce from peer-4 at 04:00:03.500", result.Detail);

        history.Add(Seen(10, "peer-3", 3, Bad));
        Assert.EndsWith(", still its tip at the end", InvariantChecker.NoInvalidBlockAccepted(history).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_blocks_nobody_was_seen_receiving_fail_rather_than_pass_unchecked()
    {
        var history = new RunHistory();
        history.Add(new InvalidBlockRecord("peer-4", TipB, 3, "low-work"));
        var result = InvariantChecker.NoInvalidBlockAccepted(history);
        Assert.False(result.Ok);
        Assert.Contains("no honest peer was seen receiving any of them", result.Detail, StringComparison.Ordinal);
        Assert.True(InvariantChecker.NoInvalidBlockAccepted(new RunHistory()).Ok);
    }

    [Fact]
    public void Blocks_acknowledged_before_a_crash_must_be_loaded_from_the_peers_own_store()
    {
        var history = new RunHistory();
        history.Add(Seen(1, "peer-1", 2, TipA, boot: "old"));
        history.Add(Logged(1, "peer-1", "old", 1, TipA, 2, "sync"));
        history.Add(new MinedRecord(At(2), "peer-1", TipB, 3));
        history.Add(new CrashRecord(At(3), "peer-1"));
        history.Add(Logged(5, "peer-1", "new", 1, TipA, 2, "loaded", "Loaded"));
        history.Add(Logged(5, "peer-1", "new", 2, TipB, 3, "loaded", "Loaded"));
        history.Add(Seen(5, "peer-1", 3, TipB, boot: "new"));
        var good = InvariantChecker.NoAcknowledgedBlockLost(history);
        Assert.True(good.Ok, good.Detail);
        Assert.Equal("1 restarts (1 after kill -9); 2 acknowledged blocks all loaded from the peer's own store before it talked to anyone", good.Detail);
    }

    [Fact]
    public void A_block_lost_on_restart_and_synced_back_fails_although_the_peer_knows_it_at_the_end()
    {
        // lose-last-block: the store gives back height 2 only; catch-up brings block 3 back before anyone looks.
        var history = new RunHistory();
        history.Add(new MinedRecord(At(1), "peer-2", TipA, 2));
        history.Add(Logged(1, "peer-2", "old", 1, TipA, 2, "mined"));
        history.Add(new MinedRecord(At(2), "peer-2", TipB, 3));
        history.Add(Logged(2, "peer-2", "old", 2, TipB, 3, "mined"));
        history.Add(Seen(2.5, "peer-2", 3, TipB, boot: "old"));
        history.Add(new CrashRecord(At(3), "peer-2"));
        history.Add(Logged(5, "peer-2", "new", 1, TipA, 2, "loaded", "Loaded"));
        history.Add(Logged(5.2, "peer-2", "new", 2, TipB, 3, "sync", from: "peer-1,peer-3"));
        history.Add(Seen(6, "peer-2", 3, TipB, boot: "new"));

        var result = InvariantChecker.NoAcknowledgedBlockLost(history);
        Assert.False(result.Ok);
        Assert.Equal(
            "peer-2 did not load block bbbbbbbbbbbb (height 3) from its own store after its crash at 04:00:03.000; it had acknowledged it " +
            "(Connected via mined, seen 04:00:02.000); its store gave back 1 blocks up to height 2; it fetched the block again via sync from peer-1,peer-3 at 04:00:05.200",
            result.Detail);
    }

    [Fact]
    public void A_graceful_restart_is_checked_too_and_a_crash_without_return_or_readable_store_fails()
    {
        var restart = new RunHistory();
        restart.Add(Seen(1, "peer-1", 2, TipA, boot: "old"));
        restart.Add(Seen(5, "peer-1", 0, TipA, boot: "new"));
        var lost = InvariantChecker.NoAcknowledgedBlockLost(restart);
        Assert.False(lost.Ok);
        Assert.StartsWith("peer-1 did not load block aaaaaaaaaaaa (height 2) from its own store after its restart (seen again at 04:00:05.000); it had acknowledged it (reported as its tip", lost.Detail, StringComparison.Ordinal);
        Assert.Contains("its store gave back nothing", lost.Detail, StringComparison.Ordinal);

        var gone = new RunHistory();
        gone.Add(Seen(1, "peer-1", 2, TipA));
        gone.Add(Logged(1, "peer-1", "boot-1", 1, TipA, 2, "mined"));
        gone.Add(new CrashRecord(At(3), "peer-1"));
        var unchecked_ = InvariantChecker.NoAcknowledgedBlockLost(gone);
        Assert.False(unchecked_.Ok);
        Assert.Equal("peer-1 crashed at 04:00:03.000 and was not seen again: 1 acknowledged blocks unchecked", unchecked_.Detail);

        var unread = new RunHistory();
        unread.Add(Seen(1, "peer-1", 2, TipA, boot: "old"));
        unread.Add(new CrashRecord(At(3), "peer-1"));
        unread.Add(new PeerObservation(At(5), "peer-1", true, true, 2, TipA, Root1, 0, 0, 0, 0, Root1, "new", BlockLogSeq: 2));
        Assert.Contains("what it loaded from its store could not be read", InvariantChecker.NoAcknowledgedBlockLost(unread).Detail, StringComparison.Ordinal);

        // A crash before the peer acknowledged anything has nothing to lose.
        var early = new RunHistory();
        early.Add(Seen(1, "peer-1", 0, TipA));
        early.Add(new CrashRecord(At(3), "peer-1"));
        Assert.True(InvariantChecker.NoAcknowledgedBlockLost(early).Ok);
    }

    [Fact]
    public void Each_mine_step_must_raise_its_miners_height_before_the_next_step_a_later_step_does_not_make_up_for_it()
    {
        RunHistory History(bool honest)
        {
            var history = new RunHistory();
            history.Add(new RunStarted(T0, "t", ["peer-1", "peer-2", "peer-3"], []));
            history.Add(Seen(0, "peer-1", 3, TipA));
            history.Add(Seen(0, "peer-2", 3, TipA));
            history.Add(new MinedRecord(At(1.5), "peer-2", TipB, 4));
            history.Add(new StepRecord(4, "mine", ["peer-2"], At(1), At(2), true, ""));
            // The poll at the end of the mine step: the miner's own chain.
            history.Add(Seen(1.9, "peer-1", 3, TipA));
            history.Add(Seen(1.9, "peer-2", honest ? 4 : 3, honest ? TipB : TipA));
            history.Add(new MinedRecord(At(2.5), "peer-1", TipC, 5));
            history.Add(new StepRecord(5, "mine", ["peer-1"], At(2), At(3), true, ""));
            // Later everyone is higher: the old end-of-run comparison passed here.
            history.Add(Seen(4, "peer-1", 5, TipC));
            history.Add(Seen(4, "peer-2", 5, TipC));
            history.Add(new RunEnded(At(5), null));
            return history;
        }

        var good = InvariantChecker.HeightGrowsWithMajority(History(honest: true));
        Assert.True(good.Ok, good.Detail);
        Assert.Equal("2 mine steps with a live majority, each followed by its miner at the reported height before the next step", good.Detail);

        var bad = InvariantChecker.HeightGrowsWithMajority(History(honest: false));
        Assert.False(bad.Ok);
        Assert.Equal("step 4 (mine on peer-2): peer-2 reported block bbbbbbbbbbbb at height 4 (1 blocks) but was seen no higher than 3 before step 5 (mine) (network best 3)", bad.Detail);
    }

    [Fact]
    public void Height_is_not_required_without_a_live_majority_nor_for_blocks_a_byzantine_miner_never_adds()
    {
        var minority = new RunHistory();
        minority.Add(new RunStarted(T0, "t", ["peer-1", "peer-2", "peer-3"], []));
        minority.Add(new MinedRecord(At(1.5), "peer-1", TipB, 3));
        minority.Add(new StepRecord(1, "mine", ["peer-1"], At(1), At(2), true, ""));
        minority.Add(Seen(3, "peer-1", 2, TipA));
        Assert.Contains("1 without a live majority not checked", InvariantChecker.HeightGrowsWithMajority(minority).Detail, StringComparison.Ordinal);

        var byzantine = new RunHistory();
        byzantine.Add(new RunStarted(T0, "t", ["peer-1", "peer-2"], []));
        byzantine.Add(new MinedRecord(At(1.5), "peer-2", Bad, 3, Faulty: true));
        byzantine.Add(new InvalidBlockRecord("peer-2", Bad, 3, "wrong-key", At(1.5)));
        byzantine.Add(new StepRecord(1, "mine", ["peer-2"], At(1), At(2), true, ""));
        byzantine.Add(Seen(1.9, "peer-1", 2, TipA));
        byzantine.Add(Seen(1.9, "peer-2", 2, TipA));
        Assert.True(InvariantChecker.HeightGrowsWithMajority(byzantine).Ok);
    }

    [Fact]
    public void A_live_state_root_off_the_tips_root_fails_naming_the_peer_and_its_tip()
    {
        var history = new RunHistory();
        history.Add(Seen(1, "peer-1", 3, TipA));
        history.Add(Seen(1, "peer-2", 3, TipA));
        Assert.True(InvariantChecker.LiveStateMatchesTip(history).Ok);

        history.Add(Seen(2, "peer-2", 4, TipB, liveRoot: Root2));
        history.Add(Seen(3, "peer-2", 4, TipB, liveRoot: Root2));
        var result = InvariantChecker.LiveStateMatchesTip(history);
        Assert.False(result.Ok);
        Assert.Equal("peer-2's live VM state root 222222222222 is not the root 111111111111 of its tip bbbbbbbbbbbb (height 4) from 04:00:02.000 on (2 of 3 observations)", result.Detail);

        var silent = new RunHistory();
        silent.Add(new PeerObservation(At(1), "peer-1", true, true, 3, TipA, Root1, 0, 0, 0));
        Assert.Contains("nothing was checked", InvariantChecker.LiveStateMatchesTip(silent).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void The_end_of_run_consistency_check_fails_naming_an_inconsistent_or_silent_peer()
    {
        var history = new RunHistory();
        Assert.Contains("no consistency check was recorded", InvariantChecker.ChainConsistent(history).Detail, StringComparison.Ordinal);

        history.Add(new ConsistencyRecord(At(9), "peer-1", true, true, [], 5, TipA, Root1, Root1));
        history.Add(new ConsistencyRecord(At(9), "peer-3", false, false, [], Error: "not running at the end of the run", Live: false));
        var good = InvariantChecker.ChainConsistent(history);
        Assert.True(good.Ok, good.Detail);
        Assert.Equal("1 peers consistent (peer-1 at 5); not running: peer-3", good.Detail);

        history.Add(new ConsistencyRecord(At(9), "peer-2", true, false, [$"VM state root {Root2} is not the state root {Root1} of the tip {TipB} (height 5)"], 5, TipB, Root1, Root2));
        history.Add(new ConsistencyRecord(At(9), "peer-4", false, false, [], Error: "GET /consistency failed: refused"));
        var bad = InvariantChecker.ChainConsistent(history);
        Assert.False(bad.Ok);
        Assert.Equal($"peer-2 (height 5, tip bbbbbbbbbbbb) is inconsistent: VM state root {Root2} is not the state root {Root1} of the tip {TipB} (height 5); peer-4 could not be checked: GET /consistency failed: refused", bad.Detail);
    }

    [Fact]
    public void Expect_steps_are_checked_again_from_the_polls_made_while_they_waited()
    {
        var expectation = new Expectation(true, TimeSpan.FromSeconds(10), 3, null, null, null, null, []);
        RunHistory History(bool convergedInTime)
        {
            var history = new RunHistory();
            history.Add(new RunStarted(T0, "t", ["peer-1", "peer-2"], [new PlannedStep(1, "mine", ["peer-1"]), new PlannedStep(2, "expect", ["*"], expectation), new PlannedStep(3, "expect", ["*"], expectation)]));
            history.Add(new StepRecord(1, "mine", ["peer-1"], At(0), At(1), true, ""));
            history.Add(Seen(1.5, "peer-1", 3, TipA, poll: 7));
            history.Add(Seen(1.5, "peer-2", 2, TipB, poll: 7));
            history.Add(Seen(2, "peer-1", 3, TipA, poll: 8));
            history.Add(Seen(2, "peer-2", 3, convergedInTime ? TipA : TipB, poll: 8));
            history.Add(new StepRecord(2, "expect", ["*"], At(1.2), At(2.1), convergedInTime, ""));
            // Converged only after step 2 had given up: that does not count for it.
            history.Add(Seen(3, "peer-1", 3, TipA, poll: 9));
            history.Add(Seen(3, "peer-2", 3, TipA, poll: 9));
            return history;
        }

        var good = ExpectationChecker.CheckExpectSteps(History(convergedInTime: true));
        var step2 = Assert.Single(good);
        Assert.Equal("step-2-expect", step2.Name);
        Assert.True(step2.Ok, step2.Detail);

        var bad = Assert.Single(ExpectationChecker.CheckExpectSteps(History(convergedInTime: false)));
        Assert.False(bad.Ok);
        Assert.StartsWith("did not hold in any of 2 polls between 04:00:01.200 and 04:00:02.100; the last: not converged: peer-1 at height 3 tip aaaaaaaaaaaa", bad.Detail, StringComparison.Ordinal);

        Assert.False(Assert.Single(ExpectationChecker.CheckExpectSteps(new RunHistory())).Ok);
    }

    [Fact]
    public void The_steps_must_all_have_run_and_done_what_they_said_as_the_history_records()
    {
        var history = new RunHistory();
        history.Add(new RunStarted(T0, "t", ["peer-1"], [new PlannedStep(1, "mine", ["peer-1"]), new PlannedStep(2, "stop", ["peer-1"]), new PlannedStep(3, "start", ["peer-1"])]));
        history.Add(new StepRecord(0, "stop", ["peer-2"], At(0), At(1), true, "late joiner"));
        history.Add(new StepRecord(1, "mine", ["peer-1"], At(1), At(2), true, ""));
        Assert.Equal("the history ends before the run did (no end line)", InvariantChecker.StepsCompleted(history).Detail);

        history.Add(new StepRecord(2, "stop", ["peer-1"], At(2), At(3), false, "control API refused stop of peer-1"));
        history.Add(new RunEnded(At(4), "step 2 (stop) failed; later steps were not run"));
        var failed = InvariantChecker.StepsCompleted(history);
        Assert.False(failed.Ok);
        Assert.Equal("step 2 (stop) failed: control API refused stop of peer-1; step 2 (stop) failed; later steps were not run", failed.Detail);

        var short_ = new RunHistory();
        short_.Add(new RunStarted(T0, "t", ["peer-1"], [new PlannedStep(1, "mine", ["peer-1"]), new PlannedStep(2, "wait", [])]));
        short_.Add(new StepRecord(1, "mine", ["peer-1"], At(1), At(2), true, ""));
        short_.Add(new RunEnded(At(4), null));
        Assert.Equal("1 of 2 planned steps were not run", InvariantChecker.StepsCompleted(short_).Detail);
        short_.Add(new StepRecord(2, "wait", [], At(2), At(3), true, ""));
        Assert.True(InvariantChecker.StepsCompleted(short_).Ok);
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
