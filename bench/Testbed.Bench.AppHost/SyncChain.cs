using Testbed.Ledger.Chain;
using Testbed.Ledger.Consensus;
using Testbed.Ledger.Jws;
using Testbed.Ledger.Mining;
using Testbed.Ledger.Transactions;
using Testbed.Ledger.Wallets;

namespace Testbed.Bench.AppHost;

/// <summary>
/// The chain <c>bench sync</c> has the fresh peer catch up, mined in this process into a chain store the seeders start
/// with, and the single-core rates it is compared with: the same verify+replay+store on one thread, and ES256 verifies.
/// </summary>
internal sealed class SyncChain
{
    private SyncChain(IReadOnlyList<string> tokens, string sampleTransaction)
    {
        Tokens = tokens;
        SampleTransaction = sampleTransaction;
    }

    /// <summary>The blocks' tokens, from height 1 up.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>One of the chain's transaction tokens (an ES256 JWS as the blocks carry them).</summary>
    private string SampleTransaction { get; }

    /// <summary>Mines <paramref name="count"/> blocks of <paramref name="transactions"/> transactions each into a chain store at <paramref name="directory"/>.</summary>
    public static async Task<SyncChain> MineAsync(string directory, NetworkConfig network, int count, int transactions, CancellationToken cancellationToken)
    {
        var tokens = new List<string>(count);
        string? sample = null;
        using var wallet = Wallet.CreateEphemeral();
        using var sender = Wallet.CreateEphemeral();
        using var chain = Blockchain.Open(directory, network);
        var miner = new BlockMiner(wallet, 1);
        long nonce = 0;
        while (tokens.Count < count)
        {
            var pending = new List<SignedTransaction>(transactions);
            for (var i = 0; i < transactions; i++, nonce++)
            {
                pending.Add(SignedTransaction.Create(sender, nonce, BenchContracts.RegisterStudent($"sync-{nonce}")));
            }

            sample ??= pending.FirstOrDefault()?.Token;
            var template = chain.CreateTemplate(pending, wallet.PublicKey.Address);
            if (template.Transactions.Count != transactions)
            {
                throw new InvalidOperationException($"the template took {template.Transactions.Count} of {transactions} transactions");
            }

            var mined = await miner.MineAsync(template, cancellationToken).ConfigureAwait(false) ?? throw new OperationCanceledException(cancellationToken);
            var result = chain.AddMinedBlock(mined);
            if (result.Status != AddBlockStatus.Connected)
            {
                throw new InvalidOperationException($"generated block refused: {result.Status} {result.Detail}");
            }

            tokens.Add(mined.Block.Token);
        }

        return new SyncChain(tokens, sample ?? tokens[0]);
    }

    /// <summary>Verify, replay and store every block on a fresh chain at <paramref name="directory"/> on this thread; blocks/s (wall).</summary>
    public double SingleCoreRate(string directory, NetworkConfig network)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            // One thread: a chain checks a block's transactions on every core unless told otherwise.
            using var chain = Blockchain.Open(directory, network, new ChainOptions { VerifyThreads = 1 });
            foreach (var token in Tokens)
            {
                var result = chain.AddBlock(token);
                if (result.Status != AddBlockStatus.Connected)
                {
                    throw new InvalidOperationException($"the single-core run refused a block: {result.Status} {result.Detail}");
                }
            }

            return Tokens.Count / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>ES256 signature checks of one of the chain's transactions, as the chain makes them, on this thread for <paramref name="duration"/>; per second (wall).</summary>
    public double Es256Rate(TimeSpan duration)
    {
        if (CompactJws.TryParse(SampleTransaction, out var jws, out var detail) != JwsProblem.None)
        {
            throw new InvalidOperationException($"the sample transaction does not parse: {detail}");
        }

        using var header = jws!.Header;
        var clock = Stopwatch.StartNew();
        long checks = 0;
        while (clock.Elapsed < duration)
        {
            for (var i = 0; i < 64; i++, checks++)
            {
                if (!jws.VerifySignature())
                {
                    throw new InvalidOperationException("the sample transaction's signature does not verify");
                }
            }
        }

        return checks / clock.Elapsed.TotalSeconds;
    }
}
