using System.CommandLine;
using System.Globalization;

namespace Testbed.Bench.Measurement;

/// <summary>
/// The repeat-and-interleave rule of every side-by-side bench, in one place: each round runs every side once, in the
/// given order on even rounds and in reverse order on odd rounds, so a slow spell of the machine falls on both sides;
/// each side's samples give a median, a minimum and a maximum, and ratios are ratios of medians.
/// </summary>
public static class Interleaved
{
    public const int DefaultRounds = 5;
    public const int MinRounds = 5;
    public const int MaxRounds = 100;

    /// <summary>The `--rounds N` option every side-by-side bench takes.</summary>
    public static Option<int> RoundsOption() => new("--rounds")
    {
        Description = $"Rounds; each runs every side once, alternating the order ({MinRounds}..{MaxRounds}, default {DefaultRounds})",
        DefaultValueFactory = _ => DefaultRounds,
    };

    /// <summary>The one-line error for a bad `--rounds`, or null when it is in range.</summary>
    public static string? CheckRounds(int rounds) =>
        rounds is >= MinRounds and <= MaxRounds ? null : $"error: --rounds must be in {MinRounds}..{MaxRounds}";

    /// <summary>
    /// Runs <paramref name="rounds"/> rounds of every side (order reversed every other round) and returns one series
    /// per side and metric, in the sides' order.
    /// </summary>
    public static async Task<IReadOnlyList<Series>> RunAsync(int rounds, IReadOnlyList<Side> sides, CancellationToken cancellationToken)
    {
        var samples = sides.Select(s => s.Metrics.Select(_ => new List<double>()).ToArray()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            var order = Enumerable.Range(0, sides.Count);
            foreach (var index in round % 2 == 0 ? order : order.Reverse())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var values = await sides[index].Sample(cancellationToken).ConfigureAwait(false);
                if (values.Length != sides[index].Metrics.Count)
                {
                    throw new InvalidOperationException($"side '{sides[index].Name}' gave {values.Length} values for {sides[index].Metrics.Count} metrics");
                }

                for (var m = 0; m < values.Length; m++)
                {
                    samples[index][m].Add(values[m]);
                }
            }
        }

        return sides.SelectMany((side, i) => side.Metrics.Select((unit, m) => Series.Of(side.Name, unit, samples[i][m]))).ToArray();
    }

    /// <summary>Prints the series unit by unit, then the ratios of medians and the limit lines, as every bench's text output does.</summary>
    public static void Print(IReadOnlyList<Series> series, IReadOnlyList<string> units, IEnumerable<Ratio> ratios, IEnumerable<Limit> limits, int sideWidth)
    {
        foreach (var unit in units)
        {
            foreach (var s in series.Where(s => s.Unit == unit))
            {
                Console.WriteLine(s.Line(sideWidth));
            }
        }

        foreach (var ratio in ratios)
        {
            Console.WriteLine(ratio.Line());
        }

        foreach (var limit in limits)
        {
            Console.WriteLine(limit.Line());
        }
    }

    /// <summary>The series of <paramref name="side"/> in <paramref name="unit"/>.</summary>
    public static Series Find(this IReadOnlyList<Series> series, string side, string unit) =>
        series.Single(s => s.Side == side && s.Unit == unit);
}

/// <summary>One side of a comparison: a name, the units of the figures one sample gives, and the sampler.</summary>
public sealed record Side(string Name, IReadOnlyList<string> Metrics, Func<CancellationToken, Task<double[]>> Sample)
{
    /// <summary>A side whose sampler runs synchronously on the calling thread.</summary>
    public static Side Sync(string name, IReadOnlyList<string> metrics, Func<double[]> sample) =>
        new(name, metrics, _ => Task.FromResult(sample()));
}

/// <summary>All samples of one side in one unit, with their median, minimum and maximum (the --json record too).</summary>
public sealed record Series(string Side, string Unit, double Median, double Min, double Max, double[] Samples)
{
    public static Series Of(string side, string unit, IReadOnlyList<double> samples)
    {
        if (samples.Count == 0)
        {
            throw new ArgumentException("a series needs at least one sample", nameof(samples));
        }

        return new Series(side, unit, BenchFigures.Median(samples), samples.Min(), samples.Max(), samples.ToArray());
    }

    /// <summary>`  side  unit  median X  min Y  max Z  n=K  [s1 s2 ...]`.</summary>
    public string Line(int sideWidth = 44) =>
        string.Create(CultureInfo.InvariantCulture, $"  {Side.PadRight(sideWidth)} {Unit,-22} median {Figure.Format(Median),13}  min {Figure.Format(Min),13}  max {Figure.Format(Max),13}  n={Samples.Length}  [{string.Join(' ', Samples.Select(Figure.Format))}]");
}

/// <summary>A ratio of medians, numerator / denominator (the --json record too).</summary>
public sealed record Ratio(string Numerator, string Denominator, string Unit, double Value)
{
    public static Ratio Of(Series numerator, Series denominator)
    {
        if (numerator.Unit != denominator.Unit)
        {
            throw new ArgumentException($"cannot divide {numerator.Unit} by {denominator.Unit}");
        }

        return new Ratio(numerator.Side, denominator.Side, numerator.Unit, denominator.Median == 0 ? 0 : numerator.Median / denominator.Median);
    }

    /// <summary>`  ratio of medians: A / B (unit) = x.xxx`.</summary>
    public string Line() => string.Create(CultureInfo.InvariantCulture, $"  ratio of medians: {Numerator} / {Denominator} ({Unit}) = {Value:F3}");
}

/// <summary>The physical limit a bench chases, measured in the same run (the --json record too).</summary>
public sealed record Limit(string Description, Series Measured)
{
    /// <summary>`limit: description: median X unit (min Y, max Z, n=K), measured in this run`.</summary>
    public string Line() =>
        string.Create(CultureInfo.InvariantCulture, $"limit: {Description}: median {Figure.Format(Measured.Median)} {Measured.Unit} (min {Figure.Format(Measured.Min)}, max {Figure.Format(Measured.Max)}, n={Measured.Samples.Length}), measured in this run");
}

/// <summary>How figures are printed: whole numbers with thousands separators from 1000 up, two decimals below.</summary>
public static class Figure
{
    public static string Format(double value) =>
        Math.Abs(value) >= 1000 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("F2", CultureInfo.InvariantCulture);
}
