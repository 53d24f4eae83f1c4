using System.Diagnostics;
using Testbed.Ledger.Mining;

namespace Testbed.Ledger.Tests.Mining;

public sealed class BlockMinerTests
{
    private readonly Wallet _wallet = Wallet.CreateEphemeral();

    [Fact]
    public async Task Mined_block_on_two_threads_is_accepted_and_traced()
    {
        using var spans = new SpanRecorder();
        using var test = new TestChain(peer: "miner-ok");
        var miner = new BlockMiner(_wallet, threads: 2, peerName: "miner-ok");
        var mined = await miner.MineNextAsync(test.Chain, [Forge.Vote(_wallet, 0, "P1")], CancellationToken.None);
        Assert.NotNull(mined);
        Assert.True(mined.Attempts >= 1);
        Assert.Equal(AddBlockStatus.Connected, test.Chain.AddBlock(mined.Block.Token).Status);
        Assert.Single(mined.Block.Transactions);

        var mine = Assert.Single(spans.For("miner-ok", "block.mine"));
        Assert.Equal(1L, mine.GetTagItem("block.height"));
        Assert.Equal(mined.Block.Hash.ToString(), mine.GetTagItem("block.hash"));
        Assert.Equal(2, mine.GetTagItem("pow.difficulty_bits"));
        Assert.Equal(mined.Attempts, mine.GetTagItem("pow.attempts"));
        Assert.Single(spans.For("miner-ok", "block.sign"));
    }

    [Fact]
    public async Task Cancelling_stops_a_search_that_would_take_years_at_once()
    {
        var header = new BlockHeader(1, 1, Hash256.Of("x"u8), 0, 60, TransactionsRoot.Compute([]), Hash256.Of("s"u8), _wallet.PublicKey.Address, 0);
        var miner = new BlockMiner(_wallet, threads: 2);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();
        var mined = await miner.MineAsync(new BlockTemplate(header, []), cts.Token);
        Assert.Null(mined);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed} to stop");
        // The cancelled search's work still counts towards the miner's attempts (the peer's hash-rate reading).
        Assert.True(miner.Attempts > 1_000, $"only {miner.Attempts} attempts counted in 300 ms");
    }

    [Fact]
    public async Task Attempts_add_up_over_searches()
    {
        using var test = new TestChain(peer: "miner-count");
        var miner = new BlockMiner(_wallet, threads: 1);
        var first = await miner.MineNextAsync(test.Chain, [], CancellationToken.None);
        Assert.NotNull(first);
        Assert.Equal(first.Attempts, miner.Attempts);
        Assert.Equal(AddBlockStatus.Connected, test.Chain.AddBlock(first.Block.Token).Status);
        var second = await miner.MineNextAsync(test.Chain, [], CancellationToken.None);
        Assert.NotNull(second);
        Assert.Equal(first.Attempts + second.Attempts, miner.Attempts);
    }

    [Fact]
    public async Task A_better_tip_stops_mining_on_the_old_one()
    {
        // Retargeting makes the miner's next block need 41 bits (its parent came 0 ms after genesis against a target of
        // 10^12 ms), while a rival branch whose first block came 2*10^12 ms later needs only 1 bit: the rival wins while
        // the miner is still searching, and the tip change must stop it.
        var network = TestNetworks.Tiny("better-tip") with
        {
            InitialDifficultyBits = 1,
            MinDifficultyBits = 1,
            MaxDifficultyBits = 64,
            RetargetWindowBlocks = 2,
            MaxRetargetStepBits = 60,
            TargetBlockIntervalMs = 1_000_000_000_000,
        };
        using var test = new TestChain(network, "miner-tip");
        test.Clock.Now = DateTimeOffset.FromUnixTimeMilliseconds(network.GenesisTimestampMs);
        var genesis = test.Chain.GetHeader(test.Chain.Tip.Hash)!;
        var first = Forge.Next(test.Chain, _wallet);
        Assert.Equal(AddBlockStatus.Connected, test.Chain.AddBlock(first.Token).Status);
        Assert.True(test.Chain.NextDifficulty(first.Hash) > 40);

        var miner = new BlockMiner(_wallet, threads: 1, peerName: "miner-tip");
        using var safety = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var mining = miner.MineNextAsync(test.Chain, [], safety.Token);

        var rival = Wallet.CreateEphemeral();
        var late = genesis.TimestampMs + 2_000_000_000_000;
        test.Clock.Now = DateTimeOffset.FromUnixTimeMilliseconds(late);
        var b1 = Forge.Seal(genesis with { Height = 1, PreviousHash = test.Chain.GenesisHash, TimestampMs = late, Miner = rival.PublicKey.Address }, [], rival);
        Assert.Equal(AddBlockStatus.SideBranch, test.Chain.AddBlock(b1.Token).Status);
        var bits = test.Chain.NextDifficulty(b1.Hash);
        Assert.True(bits <= 2, $"rival needs {bits} bits");
        var b2 = Forge.Seal(b1.Header with { Height = 2, PreviousHash = b1.Hash, DifficultyBits = bits, Nonce = 0 }, [], rival);
        Assert.False(mining.IsCompleted);
        var watch = Stopwatch.StartNew();
        Assert.Equal(AddBlockStatus.Reorganized, test.Chain.AddBlock(b2.Token).Status);

        var result = await mining.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Null(result);
        Assert.False(safety.IsCancellationRequested, "mining was stopped by the safety timeout, not by the new tip");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed} to stop");
    }
}
