namespace Testbed.Ledger.Tests.Chain;

/// <summary>
/// The deliberate defects of the broken-peer mode (<see cref="ChainDefects"/>), each doing exactly its one wrong thing, and
/// the accessors the chaos checks read: the live VM root beside the tip's, the indexed blocks, the consistency check.
/// </summary>
public sealed class ChainDefectTests : TestsWithWallets
{
    [Fact]
    public void Skip_signature_check_accepts_a_block_signed_by_another_key_that_a_correct_chain_refuses()
    {
        using var honest = new TestChain(peer: "sig-honest");
        using var broken = new TestChain(peer: "sig-broken", defects: ChainDefects.SkipSignatureCheck);
        var valid = Forge.Next(honest.Chain, Miner);
        // Signed by a stranger while the payload names minerA: what the wrong-key fault hook mines.
        var forged = JwsSigner.Sign(Block.PayloadJson(valid.Header, valid.Transactions), Stranger);

        var refused = honest.Chain.AddBlock(forged);
        Assert.Equal(AddBlockStatus.Rejected, refused.Status);
        Assert.Equal(BlockRejectionReason.KidMismatch, refused.Reason);

        Assert.Equal(AddBlockStatus.Connected, broken.Chain.AddBlock(forged).Status);
        Assert.Equal(valid.Hash, broken.Chain.Tip.Hash);
        // The defect also reads its store that way, so the broken chain stays usable (and consistent with itself).
        Assert.Empty(broken.Chain.CheckConsistency(deep: true));
        broken.Reopen();
        Assert.Equal(valid.Hash, broken.Chain.Tip.Hash);
    }

    [Fact]
    public void Corrupt_state_after_reorg_leaves_the_live_vm_root_off_the_tip_and_the_consistency_check_names_the_tip()
    {
        foreach (var defects in new[] { ChainDefects.None, ChainDefects.CorruptStateAfterReorg })
        {
            using var a = new TestChain(peer: "drift-a", defects: defects);
            using var b = new TestChain(peer: "drift-b");
            a.MineAndAdd(Miner, Forge.Student(Alice, 0, "S1"));
            b.MineAndAdd(Rival);
            var rival = b.MineAndAdd(Rival);
            Assert.Equal(AddBlockStatus.SideBranch, a.Chain.AddBlock(b.Chain.GetBlockToken(b.Chain.MainChain(1, 1)[0])!).Status);
            Assert.Equal(AddBlockStatus.Reorganized, a.Chain.AddBlock(rival.Token).Status);

            var (tip, live) = a.Chain.TipAndLiveStateRoot;
            Assert.Equal(rival.Hash, tip.Hash);
            Assert.Equal(b.Chain.Tip.StateRoot, tip.StateRoot);
            var problems = a.Chain.CheckConsistency(deep: true);
            if (defects == ChainDefects.None)
            {
                Assert.Equal(tip.StateRoot, live);
                Assert.Empty(problems);
            }
            else
            {
                Assert.NotEqual(tip.StateRoot, live);
                var problem = Assert.Single(problems);
                Assert.Contains($"of the tip {rival.Hash} (height 2)", problem, StringComparison.Ordinal);
                Assert.Contains("DRIFT-2-", a.Chain.ExportStateJson(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Lose_last_block_forgets_the_newest_block_on_open_and_the_chain_takes_it_again()
    {
        using var chain = new TestChain(peer: "lose");
        chain.MineAndAdd(Miner, Forge.Student(Alice, 0, "S1"));
        var second = chain.MineAndAdd(Miner, Forge.Student(Alice, 1, "S2"));
        var third = chain.MineAndAdd(Miner, Forge.Student(Alice, 2, "S3"));
        Assert.Equal(3, chain.Chain.IndexedBlocks().Count);

        chain.Reopen(ChainDefects.LoseLastBlock);
        Assert.Equal(second.Hash, chain.Chain.Tip.Hash);
        Assert.DoesNotContain(chain.Chain.IndexedBlocks(), b => b.Hash == third.Hash);
        Assert.Equal(2, chain.Chain.NextNonce(Alice.Address));
        Assert.DoesNotContain("S3", chain.Chain.ExportStateJson(), StringComparison.Ordinal);
        Assert.Empty(chain.Chain.CheckConsistency(deep: true));

        // Lost for good (also without the defect), until someone hands it over again.
        chain.Reopen(ChainDefects.None);
        Assert.Equal(second.Hash, chain.Chain.Tip.Hash);
        Assert.Equal(AddBlockStatus.Connected, chain.Chain.AddBlock(third.Token).Status);
        Assert.Equal(third.Hash, chain.Chain.Tip.Hash);
        Assert.Empty(chain.Chain.CheckConsistency(deep: true));

        // Every open loses one more; genesis is never lost.
        for (var i = 0; i < 4; i++)
        {
            chain.Reopen(ChainDefects.LoseLastBlock);
        }

        Assert.Equal(0, chain.Chain.Tip.Height);
        Assert.Empty(chain.Chain.IndexedBlocks());
        Assert.Empty(chain.Chain.CheckConsistency(deep: true));
    }

    [Fact]
    public void Indexed_blocks_list_every_branch_by_height_and_say_which_are_on_the_main_chain()
    {
        using var a = new TestChain(peer: "index");
        var (first, side) = a.MineAndAddWithRival(Miner, Rival);
        var second = a.MineAndAdd(Miner);

        var blocks = a.Chain.IndexedBlocks();
        Assert.Equal(3, blocks.Count);
        Assert.Equal([1, 1, 2], blocks.Select(x => x.Height));
        Assert.Contains(new IndexedBlock(first.Hash, 1, true), blocks);
        Assert.Contains(new IndexedBlock(side.Hash, 1, false), blocks);
        Assert.Contains(new IndexedBlock(second.Hash, 2, true), blocks);
    }
}
