using System.Globalization;
using System.Text.RegularExpressions;

namespace Testbed.Bench.Tests;

/// <summary>One printed series line: `side  unit  median X  min Y  max Z  n=K  [s1 s2 ...]`.</summary>
internal sealed record PrintedSeries(string Side, string Unit, double Median, double Min, double Max, string N, double[] Samples);

/// <summary>One printed `ratio of medians: A / B (unit) = x.xxx` line.</summary>
internal sealed record PrintedRatio(string Numerator, string Denominator, string Unit, double Value);

/// <summary>
/// The series and ratio lines a bench prints (Testbed.Bench.Measurement's format), read back as the bench-output
/// tests check them. A bench divides unrounded medians; a test sees printed ones (two decimals below 1000, whole numbers
/// from 1000 up), so a printed ratio can only be asked to lie in the range its printed medians allow.
/// </summary>
internal sealed record PrintedOutput(IReadOnlyList<PrintedSeries> Series, IReadOnlyList<PrintedRatio> Ratios)
{
    /// <summary>The series and ratio lines among <paramref name="lines"/> in any of <paramref name="units"/>.</summary>
    public static PrintedOutput Read(IEnumerable<string> lines, params string[] units)
    {
        var unit = string.Join('|', units.Select(Regex.Escape));
        var seriesLine = new Regex($@"^(?<side>.+?)\s{{2,}}(?<unit>{unit})\s+median\s+(?<median>[\d,.]+)\s+min\s+(?<min>[\d,.]+)\s+max\s+(?<max>[\d,.]+)\s+n=(?<n>\d+)\s+\[(?<samples>[\d,. ]+)\]$");
        var ratioLine = new Regex($@"^ratio of medians: (?<a>.+) / (?<b>.+) \((?<unit>{unit})\) = (?<value>[\d.]+)$");
        var all = lines.ToList();
        var series = all.Select(l => seriesLine.Match(l)).Where(m => m.Success).Select(m => new PrintedSeries(
            m.Groups["side"].Value.Trim(),
            m.Groups["unit"].Value.Trim(),
            Number(m.Groups["median"].Value),
            Number(m.Groups["min"].Value),
            Number(m.Groups["max"].Value),
            m.Groups["n"].Value,
            m.Groups["samples"].Value.Split(' ').Select(Number).ToArray())).ToList();
        var ratios = all.Select(l => ratioLine.Match(l)).Where(m => m.Success).Select(m => new PrintedRatio(
            m.Groups["a"].Value, m.Groups["b"].Value, m.Groups["unit"].Value, Number(m.Groups["value"].Value))).ToList();
        return new PrintedOutput(series, ratios);
    }

    /// <summary>
    /// The printed medians by (side, unit), each series checked against its samples: <paramref name="rounds"/> of them
    /// (and n= says so), the median the middle one, min and max the extremes.
    /// </summary>
    public Dictionary<(string Side, string Unit), double> Medians(int rounds)
    {
        var medians = new Dictionary<(string Side, string Unit), double>();
        foreach (var series in Series)
        {
            Assert.Equal(rounds.ToString(CultureInfo.InvariantCulture), series.N);
            Assert.Equal(rounds, series.Samples.Length);
            Assert.Equal(series.Samples.Order().ElementAt(rounds / 2), series.Median);
            Assert.Equal(series.Samples.Min(), series.Min);
            Assert.Equal(series.Samples.Max(), series.Max);
            medians[(series.Side, series.Unit)] = series.Median;
        }

        return medians;
    }

    /// <summary>Asserts every ratio line is its numerator's printed median over its denominator's, as far as printing lets one know.</summary>
    public void AssertRatiosMatchMedians(IReadOnlyDictionary<(string Side, string Unit), double> medians)
    {
        foreach (var ratio in Ratios)
        {
            var numerator = medians[(ratio.Numerator, ratio.Unit)];
            var denominator = medians[(ratio.Denominator, ratio.Unit)];
            var lowest = (numerator - Rounding(numerator)) / (denominator + Rounding(denominator));
            var highest = denominator > Rounding(denominator) ? (numerator + Rounding(numerator)) / (denominator - Rounding(denominator)) : double.PositiveInfinity;
            Assert.InRange(ratio.Value, lowest - 0.0005, highest + 0.0005);
        }
    }

    private static double Number(string text) => double.Parse(text, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    private static double Rounding(double figure) => Math.Abs(figure) >= 1000 ? 0.5 : 0.005;
}
