using Testbed.Ledger.Blocks;
using Testbed.Ledger.Chain;
using Testbed.Ledger.ProofOfWork;
using Testbed.Ledger.Wallets;

namespace Testbed.Ledger.Mining;


/// <summary>
/// Mines templates on several cores with <see cref="ProofOfWorkSearch"/> (the nonce is the header's last 8 bytes, so
/// nothing is signed per attempt), then signs the block once. Cancelling the token, or a new best tip when mining on a
/// chain, stops the search at once.
/// </summary>
public sealed class BlockMiner(Wallet wallet, int threads, string peerName = "")
{
    private long _attempts;

    public int Threads { get; } = threads >= 1 ? threads : throw new ArgumentOutOfRangeException(nameof(threads));

    /// <summary>Nonces tried by every search so far, cancelled ones included (the basis of a hash-rate reading).</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Mines one template; null when cancelled before a nonce was found.</summary>
    public async Task<MinedBlock?> MineAsync(BlockTemplate template, CancellationToken cancellationToken)
    {
        using var activity = LedgerTelemetry.Source.StartActivity("block.mine");
        activity?.SetTag(LedgerTelemetry.Peer, peerName);
        activity?.SetTag(LedgerTelemetry.BlockHeight, (long)template.Header.Height);
        activity?.SetTag(LedgerTelemetry.DifficultyBits, (int)template.Header.DifficultyBits);
        var bytes = template.Header.ToBytes();
        var bits = (int)template.Header.DifficultyBits;
        var outcome = await Task.Factory.StartNew(
            () => ProofOfWorkSearch.Run(bytes, bits, Threads, Sha256Kernels.Best, cancellationToken),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).ConfigureAwait(false);
        Interlocked.Add(ref _attempts, outcome.Attempts);
        if (outcome.Found is not { } found)
        {
            activity?.SetTag(LedgerTelemetry.Result, "cancelled");
            return null;
        }

        var header = template.Header with { Nonce = found.Nonce };
        activity?.SetTag(LedgerTelemetry.BlockHash, header.ComputeHash().ToString());
        activity?.SetTag(LedgerTelemetry.Attempts, found.Attempts);
        activity?.SetTag(LedgerTelemetry.Result, "found");
        var block = Block.Sign(header, template.Transactions, wallet, peerName);
        return new MinedBlock(block, found.Attempts, template);
    }

    /// <summary>
    /// Mines the next block on the chain's best tip with the mempool's transactions; stops as soon as the tip changes
    /// (another block won) or the token is cancelled, returning null. The caller adds the mined block to the chain
    /// (<see cref="Blockchain.AddMinedBlock"/>).
    /// </summary>
    public async Task<MinedBlock?> MineNextAsync(Blockchain chain, IEnumerable<Transactions.SignedTransaction> candidates, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var template = chain.CreateTemplate(candidates, wallet.PublicKey.Address);
        void OnTip(ChainTip tip)
        {
            if (tip.Hash != template.Header.PreviousHash)
            {
                stop.Cancel();
            }
        }

        chain.TipChanged += OnTip;
        try
        {
            // The tip may have moved between building the template and subscribing.
            if (chain.Tip.Hash != template.Header.PreviousHash)
            {
                return null;
            }

            return await MineAsync(template, stop.Token).ConfigureAwait(false);
        }
        finally
        {
            chain.TipChanged -= OnTip;
        }
    }
}
