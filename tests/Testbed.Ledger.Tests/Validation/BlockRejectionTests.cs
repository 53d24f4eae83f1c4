namespace Testbed.Ledger.Tests.Validation;

/// <summary>Every rejection reason, each reached by a block broken in exactly that way, and nothing changes on rejection.</summary>
public sealed class BlockRejectionTests(BrokenBlocks fixture) : IClassFixture<BrokenBlocks>
{
    public static TheoryData<BlockRejectionReason, int> Cases()
    {
        var data = new TheoryData<BlockRejectionReason, int>();
        foreach (var reason in Enum.GetValues<BlockRejectionReason>())
        {
            var variants = reason == BlockRejectionReason.InvalidTransaction ? 5 : BrokenBlocks.Variants;
            for (var v = 0; v < variants; v++)
            {
                data.Add(reason, v);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Broken_block_is_refused_with_its_reason(BlockRejectionReason reason, int variant)
    {
        var before = fixture.Chain.Tip;
        var token = fixture.Make(reason, variant);
        var result = fixture.Chain.AddBlock(token);

        Assert.False(result.Accepted, $"{reason}/{variant} was accepted: {result}");
        Assert.Equal(reason, result.Reason);
        Assert.False(string.IsNullOrWhiteSpace(result.Detail));
        // An unknown parent is not a verdict on the block: it is held back as an orphan, not rejected.
        Assert.Equal(reason == BlockRejectionReason.WrongPreviousHash ? AddBlockStatus.Orphan : AddBlockStatus.Rejected, result.Status);
        Assert.Equal(before, fixture.Chain.Tip);
        Assert.Empty(fixture.Chain.CheckConsistency(deep: false));
    }

    /// <summary>For any reason and any variant, the forged block gets exactly that reason and the chain is untouched.</summary>
    [Property(MaxTest = 60)]
    public bool Any_broken_block_is_refused_with_the_reason_it_was_broken_for(byte reasonPick, byte variantPick)
    {
        var reasons = Enum.GetValues<BlockRejectionReason>();
        var reason = reasons[reasonPick % reasons.Length];
        var before = fixture.Chain.Tip;
        var result = fixture.Chain.AddBlock(fixture.Make(reason, variantPick));
        return !result.Accepted && result.Reason == reason && fixture.Chain.Tip == before;
    }

    [Fact]
    public void Rules_refuse_a_header_that_does_not_link_to_the_given_parent()
    {
        var tip = fixture.Chain.Tip;
        var parent = fixture.Chain.GetHeader(tip.Hash)!;
        var header = parent with { Height = parent.Height + 1, PreviousHash = Hash256.Of([1, 2, 3]) };
        var e = Assert.Throws<BlockRejectedException>(() =>
            BlockRules.CheckAgainstParent(fixture.Test.Network, header, tip.Hash, parent, parent.DifficultyBits, parent.TimestampMs));
        Assert.Equal(BlockRejectionReason.WrongPreviousHash, e.Reason);
    }

    [Fact]
    public void A_block_building_on_an_invalid_block_is_refused_with_wrong_previous_hash()
    {
        using var test = new TestChain(peer: "invalid-parent");
        var miner = fixture.Miner;
        var genesis = test.Chain.Tip.Hash;
        test.MineAndAdd(miner);
        test.MineAndAdd(miner);

        // A heavier rival branch from genesis whose first block has a bad state root: stored as a side branch first
        // (state is only checked when the branch is connected), found invalid when it would win.
        using var rival = new TestChain(peer: "invalid-parent-rival");
        var bad = Forge.Next(rival.Chain, miner, tweak: h => h with { StateRoot = Hash256.Of([9]) });
        Assert.Equal(AddBlockStatus.SideBranch, test.Chain.AddBlock(bad.Token).Status);
        var child = Forge.Seal(new BlockHeader(1, 2, bad.Hash, bad.Header.TimestampMs + 1, bad.Header.DifficultyBits, TransactionsRoot.Compute([]), bad.Header.StateRoot, miner.PublicKey.Address, 0), [], miner);
        var grandchild = Forge.Seal(new BlockHeader(1, 3, child.Hash, bad.Header.TimestampMs + 2, bad.Header.DifficultyBits, TransactionsRoot.Compute([]), bad.Header.StateRoot, miner.PublicKey.Address, 0), [], miner);
        Assert.Equal(AddBlockStatus.SideBranch, test.Chain.AddBlock(child.Token).Status);
        var reorg = test.Chain.AddBlock(grandchild.Token);
        Assert.Equal(AddBlockStatus.Rejected, reorg.Status);
        Assert.Equal(BlockRejectionReason.StateRootMismatch, reorg.Reason);
        Assert.Equal(2, test.Chain.Tip.Height);
        Assert.NotEqual(genesis, test.Chain.Tip.Hash);
        var again = test.Chain.AddBlock(bad.Token);
        Assert.Equal(AddBlockStatus.Rejected, again.Status);
        Assert.Equal(BlockRejectionReason.StateRootMismatch, again.Reason);

        var greatGrandchild = Forge.Seal(new BlockHeader(1, 4, grandchild.Hash, bad.Header.TimestampMs + 3, bad.Header.DifficultyBits, TransactionsRoot.Compute([]), bad.Header.StateRoot, miner.PublicKey.Address, 0), [], miner);
        var result = test.Chain.AddBlock(greatGrandchild.Token);
        Assert.Equal(AddBlockStatus.Rejected, result.Status);
        Assert.Equal(BlockRejectionReason.WrongPreviousHash, result.Reason);
        Assert.Empty(test.Chain.CheckConsistency(deep: true));
    }
}
