using System.Diagnostics;
using Testbed.Ledger.Consensus;
using Testbed.TestSupport;

namespace Testbed.Ledger.Tests.Support;

/// <summary>A temporary directory removed when the test ends.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => System.IO.Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ledger-tests-" + Guid.NewGuid().ToString("N"));

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>Networks with a few bits of work so tests mine in microseconds.</summary>
internal static class TestNetworks
{
    public static NetworkConfig Tiny(string name = "unit") => new()
    {
        Name = name,
        InitialDifficultyBits = 2,
        MinDifficultyBits = 1,
        MaxDifficultyBits = 8,
        TargetBlockIntervalMs = 1000,
        RetargetWindowBlocks = 1000,
        MaxRetargetStepBits = 1,
        MaxBlockBytes = 64 * 1024,
        MaxTransactionsPerBlock = 16,
    };
}

/// <summary>A chain in a temporary directory, with a manual clock, for one test.</summary>
internal sealed class TestChain : IDisposable
{
    private readonly TempDir _dir = new();

    public TestChain(NetworkConfig? network = null, string peer = "test", ChainDefects defects = ChainDefects.None)
    {
        Network = network ?? TestNetworks.Tiny();
        Clock = new ManualClock(DateTimeOffset.FromUnixTimeMilliseconds(Network.GenesisTimestampMs).AddMinutes(1));
        Options = new ChainOptions { PeerName = peer, Time = Clock, Defects = defects };
        Chain = Blockchain.Open(Directory, Network, Options);
    }

    public NetworkConfig Network { get; }

    public ManualClock Clock { get; }

    public ChainOptions Options { get; private set; }

    /// <summary>Reopens the same directory with other deliberate defects.</summary>
    public Blockchain Reopen(ChainDefects defects)
    {
        Options = new ChainOptions { PeerName = Options.PeerName, Time = Clock, Defects = defects };
        return Reopen();
    }

    public string Directory => _dir.Sub("chain");

    public Blockchain Chain { get; private set; }

    public Blockchain Reopen()
    {
        Chain.Dispose();
        Chain = Blockchain.Open(Directory, Network, Options);
        return Chain;
    }

    /// <summary>Mines a valid block on the tip with the given transactions and adds it; asserts it connected.</summary>
    public Block MineAndAdd(Wallet miner, params SignedTransaction[] transactions)
    {
        Clock.Now = Clock.Now.AddSeconds(1);
        var block = Forge.Next(Chain, miner, transactions);
        var result = Chain.AddBlock(block.Token);
        Assert.True(result.Accepted, $"own block refused: {result}");
        return block;
    }

    /// <summary>
    /// Mines our block on the tip and a rival's on the same parent, and adds ours and then the rival's: of the same work and
    /// seen second, it must stay a side branch (asserted). Returns both.
    /// </summary>
    public (Block Ours, Block Rival) MineAndAddWithRival(Wallet miner, Wallet rival)
    {
        var theirs = Forge.Next(Chain, rival);
        var ours = MineAndAdd(miner);
        var result = Chain.AddBlock(theirs.Token);
        Assert.True(result.Status == AddBlockStatus.SideBranch, $"rival block at the same height not kept as a side branch: {result}");
        return (ours, theirs);
    }

    public void Dispose()
    {
        Chain.Dispose();
        _dir.Dispose();
    }
}

/// <summary>Builds blocks, valid or broken on purpose.</summary>
internal static class Forge
{
    /// <summary>Finds a nonce that meets (or, with meetWork false, misses) the header's difficulty, then signs once.</summary>
    public static Block Seal(BlockHeader header, IReadOnlyList<SignedTransaction> transactions, Wallet miner, bool meetWork = true)
    {
        for (var nonce = header.Nonce; ; nonce++)
        {
            var candidate = header with { Nonce = nonce };
            var meets = ProofOfWorkSearch.Meets(candidate.ComputeHash().Span, (int)candidate.DifficultyBits);
            if (meets == meetWork)
            {
                return Block.Sign(candidate, transactions, miner);
            }
        }
    }

    /// <summary>The chain's template for the tip, optionally altered, sealed by the miner.</summary>
    public static Block Next(Blockchain chain, Wallet miner, IReadOnlyList<SignedTransaction>? transactions = null, Func<BlockHeader, BlockHeader>? tweak = null, bool meetWork = true)
    {
        var template = chain.CreateTemplate(transactions ?? [], miner.PublicKey.Address);
        var header = tweak is null ? template.Header : tweak(template.Header);
        return Seal(header, template.Transactions, miner, meetWork);
    }

    /// <summary>A block on the tip that carries exactly these transactions (no filtering), root recomputed.</summary>
    public static Block WithTransactions(Blockchain chain, Wallet miner, IReadOnlyList<SignedTransaction> transactions, Func<BlockHeader, BlockHeader>? tweak = null)
    {
        var template = chain.CreateTemplate([], miner.PublicKey.Address);
        var header = template.Header with { TransactionsRoot = TransactionsRoot.Compute(transactions.Select(t => t.Token)) };
        return Seal(tweak is null ? header : tweak(header), transactions, miner);
    }

    public static SignedTransaction Vote(Wallet sender, long nonce, string proposal) =>
        SignedTransaction.Create(sender, nonce, $$$"""[{"action":"vote_proposal","proposal":{"id":"{{{proposal}}}","description":"d"}}]""");

    public static SignedTransaction Student(Wallet sender, long nonce, string id) =>
        SignedTransaction.Create(sender, nonce, $$$"""[{"action":"register_student","student":{"id":"{{{id}}}","name":"N","department":"D"}}]""");
}

/// <summary>Collects finished activities of the ledger's ActivitySource.</summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly SourceSpans _spans = new(LedgerTelemetry.SourceName);

    public IEnumerable<Activity> Spans => _spans.Stopped;

    public IEnumerable<Activity> For(string peer, string name) =>
        Spans.Where(a => a.OperationName == name && (a.GetTagItem(LedgerTelemetry.Peer) as string) == peer);

    public void Dispose() => _spans.Dispose();
}
