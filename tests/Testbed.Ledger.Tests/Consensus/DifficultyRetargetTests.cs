using Testbed.Ledger.Consensus;

namespace Testbed.Ledger.Tests.Consensus;

public sealed class DifficultyRetargetTests
{
    private static readonly NetworkConfig Network = new()
    {
        InitialDifficultyBits = 10,
        MinDifficultyBits = 4,
        MaxDifficultyBits = 30,
        TargetBlockIntervalMs = 1000,
        RetargetWindowBlocks = 10,
        MaxRetargetStepBits = 2,
    };

    [Fact]
    public void Fast_blocks_raise_and_slow_blocks_lower_the_difficulty_at_window_boundaries()
    {
        Assert.Equal(10u, DifficultyRetarget.Next(Network, 0, 0, _ => 0));
        Assert.Equal(10u, DifficultyRetarget.Next(Network, 4, 10, h => h * 100));
        // Ten blocks in 1/4 of the target time: two bits more.
        Assert.Equal(12u, DifficultyRetarget.Next(Network, 9, 10, h => h * 250));
        // Twice the target: one bit less.
        Assert.Equal(9u, DifficultyRetarget.Next(Network, 19, 10, h => h * 2000));
        // On target: unchanged.
        Assert.Equal(10u, DifficultyRetarget.Next(Network, 29, 10, h => h * 1000));
    }

    /// <summary>After the first block (which takes the initial difficulty), every step is bounded.</summary>
    [Property(MaxTest = 300)]
    public bool Retarget_moves_at_most_the_step_and_stays_in_bounds(byte parentBits, ushort parentHeight, int spacing)
    {
        var parent = (uint)Math.Clamp((int)parentBits, (int)Network.MinDifficultyBits, (int)Network.MaxDifficultyBits);
        var next = DifficultyRetarget.Next(Network, parentHeight + 1L, parent, h => h * (long)spacing);
        return next >= Network.MinDifficultyBits && next <= Network.MaxDifficultyBits && Math.Abs((long)next - parent) <= Network.MaxRetargetStepBits;
    }
}
