using Testbed.Ledger.Blocks;
using Testbed.Ledger.Consensus;
using Testbed.Ledger.Storage;
using Testbed.Ledger.Transactions;

namespace Testbed.Ledger.Chain;

/// <summary>Turns tokens into verified blocks for the chain: a block offered to it, and a body read back from its store.</summary>
internal sealed class BlockVerifier(ChainStore store, NetworkConfig network, ChainOptions options, VerifiedTransactionCache verified)
{
    /// <summary>
    /// Signatures, work and the block's own limits: needs no chain state, so peers verify outside the chain's lock.
    /// Transactions the mempool already verified are taken from <paramref name="verified"/> rather than checked again.
    /// </summary>
    public Block Verify(string token) =>
        Block.Verify(token, network.MaxBlockBytes, network.MaxTransactionsPerBlock, options.PeerName,
            checkSigner: (options.Defects & ChainDefects.SkipSignatureCheck) == 0, options.VerifyThreads, verified);

    /// <summary>A stored block, verified again: a body file is not trusted to be the block its entry names.</summary>
    public Block LoadBlock(ChainEntry entry)
    {
        var token = store.ReadBody(entry.Hash) ?? throw new InvalidDataException($"block {entry.Hash} has no body file");
        var block = Verify(token);
        return block.Hash == entry.Hash ? block : throw new InvalidDataException($"body of {entry.Hash} hashes to {block.Hash}");
    }
}
