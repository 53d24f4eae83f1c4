namespace Testbed.Peer.Tests;

/// <summary>The hash-rate reading: attempts since the previous reading over the wall time between the readings.</summary>
public sealed class RateSamplerTests
{
    [Fact]
    public void Each_reading_is_the_increase_since_the_previous_one_per_second()
    {
        long attempts = 0, ticks = 0;
        var sampler = new RateSampler(() => attempts, () => ticks);

        (attempts, ticks) = (5_000_000, Stopwatch.Frequency / 2);
        Assert.Equal(10_000_000, sampler.Read(), precision: 3);

        // Idle since: no attempts in the next two seconds.
        ticks += 2 * Stopwatch.Frequency;
        Assert.Equal(0, sampler.Read());

        (attempts, ticks) = (attempts + 300, ticks + Stopwatch.Frequency);
        Assert.Equal(300, sampler.Read(), precision: 3);
    }

    [Fact]
    public void Two_readings_at_the_same_instant_give_zero_rather_than_a_division_by_zero()
    {
        long attempts = 0;
        var sampler = new RateSampler(() => attempts, () => 42);
        attempts = 1000;
        Assert.Equal(0, sampler.Read());
    }
}
