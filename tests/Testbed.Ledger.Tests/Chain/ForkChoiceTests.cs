namespace Testbed.Ledger.Tests.Chain;

/// <summary>Most cumulative work wins; reorganisations roll the VM back and replay the new branch.</summary>
public sealed class ForkChoiceTests : TestsWithWallets
{
    [Fact]
    public void Depth_one_reorg_switches_to_the_heavier_branch_and_replays_its_state()
    {
        using var spans = new SpanRecorder();
        using var a = new TestChain(peer: "reorg1-a");
        using var b = new TestChain(peer: "reorg1-b");
        var shared = a.MineAndAdd(Miner, Forge.Student(Alice, 0, "S1"));
        Assert.True(b.Chain.AddBlock(shared.Token).Accepted);

        var oldTip = a.MineAndAdd(Miner, Forge.Vote(Alice, 1, "P-a"));
        var stateA = a.Chain.ExportStateJson();
        var rival1 = b.MineAndAdd(Rival, Forge.Vote(Bob, 0, "P-b"));
        var rival2 = b.MineAndAdd(Rival, Forge.Student(Bob, 1, "S-b"));

        var pool = new Testbed.Ledger.Mempool.TransactionPool(a.Chain);
        Assert.Equal(AddBlockStatus.SideBranch, a.Chain.AddBlock(rival1.Token).Status);
        Assert.Equal(oldTip.Hash, a.Chain.Tip.Hash);
        var result = a.Chain.AddBlock(rival2.Token);

        // alice's vote left the best chain with its block and is pending again.
        Assert.Equal(oldTip.Transactions[0].Id, Assert.Single(pool.Ordered()).Id);

        Assert.Equal(AddBlockStatus.Reorganized, result.Status);
        Assert.Equal(1, result.ReorgDepth);
        Assert.Equal(rival2.Hash, a.Chain.Tip.Hash);
        Assert.Equal(b.Chain.Tip.StateRoot, a.Chain.Tip.StateRoot);
        Assert.Equal(b.Chain.ExportStateJson(), a.Chain.ExportStateJson());
        Assert.NotEqual(stateA, a.Chain.ExportStateJson());
        Assert.DoesNotContain("P-a", a.Chain.ExportStateJson(), StringComparison.Ordinal);
        // alice's vote was rolled back with its block, so her next nonce is 1 again.
        Assert.Equal(1, a.Chain.NextNonce(Alice.Address));
        Assert.Equal(2, a.Chain.NextNonce(Bob.Address));

        var reorg = Assert.Single(spans.For("reorg1-a", "chain.reorg"));
        Assert.Equal(1, reorg.GetTagItem("reorg.depth"));
        Assert.Equal(oldTip.Hash.ToString(), reorg.GetTagItem("chain.old_tip"));
        Assert.Equal(rival2.Hash.ToString(), reorg.GetTagItem("chain.new_tip"));
        Assert.Empty(a.Chain.CheckConsistency(deep: true));
    }

    [Fact]
    public void Deep_reorg_of_twelve_blocks_rolls_back_and_replays_and_survives_a_restart()
    {
        using var old = new TestChain(peer: "reorg12-old");
        using var a = new TestChain(peer: "reorg12-a");
        using var b = new TestChain(peer: "reorg12-b");
        for (var i = 0; i < 12; i++)
        {
            Assert.Equal(AddBlockStatus.Connected, a.Chain.AddBlock(old.MineAndAdd(Miner, Forge.Vote(Alice, i, "PA" + i)).Token).Status);
        }

        var rival = new List<string>();
        for (var i = 0; i < 13; i++)
        {
            rival.Add(b.MineAndAdd(Rival, Forge.Student(Bob, i, "SB" + i)).Token);
        }

        AddBlockResult? last = null;
        foreach (var token in rival)
        {
            last = a.Chain.AddBlock(token);
            Assert.True(last.Accepted, last.ToString());
        }

        Assert.Equal(AddBlockStatus.Reorganized, last!.Status);
        Assert.Equal(12, last.ReorgDepth);
        Assert.Equal(b.Chain.Tip, a.Chain.Tip);
        Assert.Equal(b.Chain.ExportStateJson(), a.Chain.ExportStateJson());
        Assert.Equal(0, a.Chain.NextNonce(Alice.Address));
        Assert.Equal(13, a.Chain.NextNonce(Bob.Address));

        a.Reopen();
        Assert.Equal(b.Chain.Tip, a.Chain.Tip);
        Assert.Equal(b.Chain.ExportStateJson(), a.Chain.ExportStateJson());
        Assert.Empty(a.Chain.CheckConsistency(deep: true));

        // And back after the restart: the old branch grows heavier, so the 13 blocks are undone with stored undo data.
        var thirteenth = old.MineAndAdd(Miner, Forge.Vote(Alice, 12, "PA12"));
        var fourteenth = old.MineAndAdd(Miner);
        Assert.Equal(AddBlockStatus.SideBranch, a.Chain.AddBlock(thirteenth.Token).Status);
        var back = a.Chain.AddBlock(fourteenth.Token);
        Assert.Equal(AddBlockStatus.Reorganized, back.Status);
        Assert.Equal(13, back.ReorgDepth);
        Assert.Equal(old.Chain.Tip, a.Chain.Tip);
        Assert.Equal(old.Chain.ExportStateJson(), a.Chain.ExportStateJson());
        Assert.Equal(13, a.Chain.NextNonce(Alice.Address));
        Assert.Equal(0, a.Chain.NextNonce(Bob.Address));
        Assert.Empty(a.Chain.CheckConsistency(deep: true));
    }

    [Fact]
    public void Equal_work_keeps_the_first_seen_tip()
    {
        using var a = new TestChain(peer: "tie");
        // The rival's block of the same height, and so the same work, arrives second: a side branch (the helper asserts it).
        var (mine, theirs) = a.MineAndAddWithRival(Miner, Rival);
        Assert.Equal(mine.Hash, a.Chain.Tip.Hash);
        Assert.Equal(AddBlockStatus.Duplicate, a.Chain.AddBlock(theirs.Token).Status);
    }

    [Fact]
    public void Orphans_are_reported_and_connect_once_their_parent_arrives()
    {
        using var a = new TestChain(peer: "orphan-a");
        using var b = new TestChain(peer: "orphan-b");
        var first = b.MineAndAdd(Rival);
        var second = b.MineAndAdd(Rival);
        Assert.Equal(AddBlockStatus.Orphan, a.Chain.AddBlock(second.Token).Status);
        Assert.Equal(AddBlockStatus.Connected, a.Chain.AddBlock(first.Token).Status);
        Assert.Equal(AddBlockStatus.Connected, a.Chain.AddBlock(second.Token).Status);
        Assert.Equal(b.Chain.Tip, a.Chain.Tip);
    }

    [Fact]
    public void Genesis_is_derived_from_the_network_configuration_alone()
    {
        using var a = new TestChain(TestNetworks.Tiny("net-x"));
        using var b = new TestChain(TestNetworks.Tiny("net-x"));
        using var c = new TestChain(TestNetworks.Tiny("net-y"));
        using var d = new TestChain(TestNetworks.Tiny("net-x") with { TargetBlockIntervalMs = 999 });
        Assert.Equal(a.Chain.GenesisHash, b.Chain.GenesisHash);
        Assert.NotEqual(a.Chain.GenesisHash, c.Chain.GenesisHash);
        Assert.NotEqual(a.Chain.GenesisHash, d.Chain.GenesisHash);
        Assert.Equal(0, a.Chain.Tip.Height);

        // A store of one network refuses to open as another.
        a.Chain.Dispose();
        var e = Assert.Throws<InvalidDataException>(() => Blockchain.Open(a.Directory, c.Network));
        Assert.Contains("another network", e.Message, StringComparison.Ordinal);
        a.Reopen();
    }

    [Fact]
    public void Tip_change_is_announced()
    {
        using var a = new TestChain(peer: "tip-event");
        var seen = new List<ChainTip>();
        a.Chain.TipChanged += seen.Add;
        var block = a.MineAndAdd(Miner);
        Assert.Equal(block.Hash, Assert.Single(seen).Hash);
    }
}
