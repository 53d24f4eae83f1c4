namespace Testbed.Bench.Tests;

/// <summary>
/// A bench divides its unrounded medians and prints the ratio to three decimals; a test sees only the printed medians
/// (two decimals below 1000, whole numbers from 1000 up), so it can only ask that the ratio lie in what they allow.
/// </summary>
internal static class PrintedRatio
{
    /// <summary>Asserts <paramref name="printed"/> is a ratio the printed numerator and denominator allow.</summary>
    public static void AssertMatches(double numerator, double denominator, double printed)
    {
        var lowest = (numerator - Rounding(numerator)) / (denominator + Rounding(denominator));
        var highest = denominator > Rounding(denominator) ? (numerator + Rounding(numerator)) / (denominator - Rounding(denominator)) : double.PositiveInfinity;
        Assert.InRange(printed, lowest - 0.0005, highest + 0.0005);
    }

    private static double Rounding(double figure) => Math.Abs(figure) >= 1000 ? 0.5 : 0.005;
}
