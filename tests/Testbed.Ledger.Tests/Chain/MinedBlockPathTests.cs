using Testbed.Ledger.Mining;

namespace Testbed.Ledger.Tests.Chain;

/// <summary>
/// The miner's way into its own chain (<see cref="Blockchain.AddMinedBlock"/>): connected with the state its template
/// computed while that template is current, fully verified otherwise, and stored exactly as the verified path stores it.
/// </summary>
public sealed class MinedBlockPathTests : TestsWithWallets
{
    [Fact]
    public async Task A_mined_block_is_connected_with_the_one_VM_run_of_its_template_and_no_second_verification()
    {
        using var spans = new SpanRecorder();
        using var test = new TestChain(peer: "own-path");
        var miner = new BlockMiner(Miner, threads: 1, peerName: "own-path");
        var before = test.Chain.VmBlockRuns;

        var mined = await miner.MineNextAsync(test.Chain, Transactions(0), CancellationToken.None);
        Assert.NotNull(mined);
        Assert.Equal(1, test.Chain.VmBlockRuns - before);
        var result = test.Chain.AddMinedBlock(mined);

        Assert.Equal(AddBlockStatus.Connected, result.Status);
        Assert.Equal(1, test.Chain.VmBlockRuns - before);
        Assert.Empty(spans.For("own-path", "block.verify.signature"));
        Assert.Empty(spans.For("own-path", "block.verify.pow"));
        Assert.Equal(2, mined.Block.Transactions.Count);
        var (tip, liveRoot) = test.Chain.TipAndLiveStateRoot;
        Assert.Equal(mined.Block.Hash, tip.Hash);
        Assert.Equal(mined.Block.Header.StateRoot, tip.StateRoot);
        Assert.Equal(tip.StateRoot, liveRoot);
        Assert.Equal(2, test.Chain.NextNonce(Miner.Address));

        // The same block handed over as a token runs the VM a second time: what the miner's path saves.
        using var other = new TestChain(peer: "token-path");
        var runs = other.Chain.VmBlockRuns;
        var template = other.Chain.CreateTemplate(Transactions(0), Miner.PublicKey.Address);
        var sealedBlock = Forge.Seal(template.Header, template.Transactions, Miner);
        Assert.Equal(AddBlockStatus.Connected, other.Chain.AddBlock(sealedBlock.Token).Status);
        Assert.Equal(2, other.Chain.VmBlockRuns - runs);
    }

    [Fact]
    public async Task A_template_gone_stale_is_not_connected_as_if_verified()
    {
        using var spans = new SpanRecorder();
        using var test = new TestChain(peer: "stale");
        var miner = new BlockMiner(Miner, threads: 1, peerName: "stale");
        var template = test.Chain.CreateTemplate(Transactions(0), Miner.PublicKey.Address);
        var mined = await miner.MineAsync(template, CancellationToken.None);
        Assert.NotNull(mined);

        // Another block wins the height meanwhile: the template's parent is no longer the tip.
        var winner = test.MineAndAdd(Rival);
        var runs = test.Chain.VmBlockRuns;
        var result = test.Chain.AddMinedBlock(mined);

        Assert.Equal(AddBlockStatus.SideBranch, result.Status);
        Assert.Equal(winner.Hash, test.Chain.Tip.Hash);
        Assert.Equal(runs, test.Chain.VmBlockRuns);
        Assert.Single(spans.For("stale", "block.verify.signature"), s => (string?)s.GetTagItem("block.hash") == mined.Block.Hash.ToString());
        var (tip, liveRoot) = test.Chain.TipAndLiveStateRoot;
        Assert.Equal(tip.StateRoot, liveRoot);
        Assert.Equal(0, test.Chain.NextNonce(Miner.Address));
        Assert.Empty(test.Chain.CheckConsistency(deep: true));
    }

    [Fact]
    public async Task A_block_mined_on_another_chains_template_takes_the_verified_path()
    {
        using var spans = new SpanRecorder();
        using var ours = new TestChain(peer: "ours");
        using var theirs = new TestChain(peer: "theirs");
        var miner = new BlockMiner(Miner, threads: 1);
        var mined = await miner.MineNextAsync(theirs.Chain, Transactions(0), CancellationToken.None);
        Assert.NotNull(mined);
        var runs = ours.Chain.VmBlockRuns;

        // Same genesis and state, so the block is valid here too, but this chain did not build its template.
        Assert.Equal(AddBlockStatus.Connected, ours.Chain.AddMinedBlock(mined).Status);
        Assert.Equal(runs + 1, ours.Chain.VmBlockRuns);
        Assert.Single(spans.For("ours", "block.verify.signature"));
    }

    [Fact]
    public async Task The_miners_path_stores_the_chain_the_verified_path_stores()
    {
        using var mining = new TestChain(peer: "mining");
        using var verified = new TestChain(peer: "verified");
        var miner = new BlockMiner(Miner, threads: 1);
        var tokens = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            mining.Clock.Now = mining.Clock.Now.AddSeconds(1);
            var nonce = mining.Chain.NextNonce(Miner.Address);
            var mined = await miner.MineNextAsync(mining.Chain, i % 2 == 0 ? Transactions(nonce) : [], CancellationToken.None);
            Assert.NotNull(mined);
            Assert.Equal(AddBlockStatus.Connected, mining.Chain.AddMinedBlock(mined).Status);
            tokens.Add(mined.Block.Token);
        }

        verified.Clock.Now = mining.Clock.Now;
        foreach (var token in tokens)
        {
            Assert.Equal(AddBlockStatus.Connected, verified.Chain.AddBlock(token).Status);
        }

        var reopened = mining.Reopen();
        Assert.Empty(reopened.CheckConsistency(deep: true));
        Assert.Equal(verified.Chain.Tip, reopened.Tip);
        Assert.Equal(verified.Chain.ExportStateJson(), reopened.ExportStateJson());
        Assert.Equal(verified.Chain.NextNonce(Miner.Address), reopened.NextNonce(Miner.Address));
        Assert.Equal(verified.Chain.MainChain(0, 100), reopened.MainChain(0, 100));

        // The undo data stored on the miner's path takes the chain back: a heavier rival branch from genesis reorganises it.
        using var rivalChain = new TestChain(peer: "rival");
        rivalChain.Clock.Now = mining.Clock.Now;
        var statuses = new List<AddBlockStatus>();
        for (var i = 0; i < tokens.Count + 1; i++)
        {
            statuses.Add(reopened.AddBlock(rivalChain.MineAndAdd(Rival).Token).Status);
        }

        Assert.Equal(AddBlockStatus.Reorganized, statuses[^1]);
        Assert.Equal(rivalChain.Chain.Tip.Hash, reopened.Tip.Hash);
        Assert.Empty(reopened.CheckConsistency(deep: true));
        Assert.Equal(0, reopened.NextNonce(Miner.Address));
    }

    private List<SignedTransaction> Transactions(long nonce) =>
        [Forge.Vote(Miner, nonce, $"P{nonce}"), Forge.Student(Miner, nonce + 1, $"S{nonce}")];
}
