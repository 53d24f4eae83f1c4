using Testbed.Ledger.Blocks;
using Testbed.Ledger.Consensus;

namespace Testbed.Ledger.Validation;

/// <summary>The checks of a block header against its parent: link, height, difficulty for the height, timestamp bounds.</summary>
public static class BlockRules
{
    /// <summary>Throws <see cref="BlockRejectedException"/> naming the first rule the header breaks.</summary>
    public static void CheckAgainstParent(NetworkConfig network, BlockHeader header, Hash256 parentHash, BlockHeader parent, uint expectedDifficulty, long nowMs)
    {
        if (header.PreviousHash != parentHash)
        {
            throw new BlockRejectedException(BlockRejectionReason.WrongPreviousHash, $"previous hash {header.PreviousHash} is not the parent {parentHash}");
        }

        if (header.Height != parent.Height + 1)
        {
            throw new BlockRejectedException(BlockRejectionReason.WrongHeight, $"height {header.Height} on a parent at height {parent.Height}");
        }

        if (header.DifficultyBits != expectedDifficulty)
        {
            throw new BlockRejectedException(BlockRejectionReason.WrongDifficulty, $"difficulty {header.DifficultyBits} bits, height {header.Height} needs {expectedDifficulty}");
        }

        if (header.TimestampMs < parent.TimestampMs)
        {
            throw new BlockRejectedException(BlockRejectionReason.TimestampOutOfBounds, $"timestamp {header.TimestampMs} is before the parent's {parent.TimestampMs}");
        }

        if (header.TimestampMs > nowMs + network.MaxFutureDriftMs)
        {
            throw new BlockRejectedException(BlockRejectionReason.TimestampOutOfBounds, $"timestamp {header.TimestampMs} is more than {network.MaxFutureDriftMs} ms after now ({nowMs})");
        }
    }
}
