namespace Testbed.Ledger.Consensus;

/// <summary>
/// Difficulty for the next block: unchanged except at heights that are multiples of the window, where the window's actual
/// span is compared with the target span and the difficulty moves by round(log2(target/actual)) bits, at most
/// MaxRetargetStepBits per step, within [MinDifficultyBits, MaxDifficultyBits].
/// </summary>
public static class DifficultyRetarget
{
    /// <param name="parentHeight">Height of the parent of the block being checked.</param>
    /// <param name="parentDifficulty">Parent's difficulty in bits.</param>
    /// <param name="timestampAt">Timestamp of the branch's ancestor at a given height (at most the parent's height).</param>
    public static uint Next(NetworkConfig network, long parentHeight, uint parentDifficulty, Func<long, long> timestampAt)
    {
        var height = parentHeight + 1;
        if (height == 1)
        {
            return network.InitialDifficultyBits;
        }

        if (height % network.RetargetWindowBlocks != 0)
        {
            return parentDifficulty;
        }

        var intervals = Math.Min(network.RetargetWindowBlocks, parentHeight);
        var actual = Math.Max(1, timestampAt(parentHeight) - timestampAt(parentHeight - intervals));
        var expected = (double)network.TargetBlockIntervalMs * intervals;
        var step = (long)Math.Round(Math.Log2(expected / actual));
        step = Math.Clamp(step, -(long)network.MaxRetargetStepBits, network.MaxRetargetStepBits);
        return (uint)Math.Clamp(parentDifficulty + step, network.MinDifficultyBits, network.MaxDifficultyBits);
    }
}
