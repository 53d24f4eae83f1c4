namespace Testbed.Bench.Measurement;

/// <summary>
/// A figure a bench is judged against, as the issue states it: the goal and the side of it that meets it, so that the
/// comparison is written once, where the target is named, and not again at every place that checks or prints it.
/// </summary>
public sealed class BenchTarget
{
    private readonly Func<double, double, bool> _meets;

    private BenchTarget(double goal, string comparison, Func<double, double, bool> meets)
    {
        Goal = goal;
        Comparison = comparison;
        _meets = meets;
    }

    /// <summary>The figure to reach.</summary>
    public double Goal { get; }

    /// <summary>The comparison as printed: "&gt;=" or "&lt;=".</summary>
    public string Comparison { get; }

    /// <summary>Met by a value of at least <paramref name="goal"/>.</summary>
    public static BenchTarget AtLeast(double goal) => new(goal, ">=", (value, g) => value >= g);

    /// <summary>Met by a value of at most <paramref name="goal"/>.</summary>
    public static BenchTarget AtMost(double goal) => new(goal, "<=", (value, g) => value <= g);

    /// <summary>Whether <paramref name="value"/> meets the target (a NaN figure never does).</summary>
    public bool MetBy(double value) => _meets(value, Goal);
}
