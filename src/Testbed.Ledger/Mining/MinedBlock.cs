using Testbed.Ledger.Blocks;
using Testbed.Ledger.Chain;

namespace Testbed.Ledger.Mining;

/// <summary>A block the miner found and signed, with the attempts it took and the template it was mined on.</summary>
/// <remarks>Only <see cref="BlockMiner"/> makes one, so a chain may trust that its nonce was searched for and its signature made by the miner's wallet.</remarks>
public sealed record MinedBlock
{
    internal MinedBlock(Block block, long attempts, BlockTemplate template)
    {
        Block = block;
        Attempts = attempts;
        Template = template;
    }

    public Block Block { get; }

    public long Attempts { get; }

    /// <summary>The template the block was mined on; <see cref="Blockchain.AddMinedBlock"/> connects with its VM state while it is current.</summary>
    public BlockTemplate Template { get; }
}
