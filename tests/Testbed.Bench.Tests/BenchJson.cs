using System.Text.Json;

namespace Testbed.Bench.Tests;

/// <summary>The series and ratios of a bench's --json output (Testbed.Bench.Measurement's records), read back as the bench tests check them.</summary>
internal static class BenchJson
{
    /// <summary>
    /// The medians of the output's series by (side, unit), each checked against its samples (one a round: the median the
    /// middle one, min and max the extremes), and every ratio checked to be the ratio of the two medians it names.
    /// </summary>
    public static Dictionary<(string Side, string Unit), double> Medians(JsonElement root, int rounds)
    {
        var medians = new Dictionary<(string Side, string Unit), double>();
        foreach (var s in root.GetProperty("series").EnumerateArray())
        {
            var samples = Samples(s);
            Assert.Equal(rounds, samples.Length);
            Assert.Equal(samples.Order().ElementAt(rounds / 2), s.GetProperty("median").GetDouble());
            Assert.Equal(samples.Min(), s.GetProperty("min").GetDouble());
            Assert.Equal(samples.Max(), s.GetProperty("max").GetDouble());
            medians.Add((s.GetProperty("side").GetString()!, s.GetProperty("unit").GetString()!), s.GetProperty("median").GetDouble());
        }

        foreach (var ratio in root.GetProperty("ratios").EnumerateArray())
        {
            var unit = ratio.GetProperty("unit").GetString()!;
            var value = medians[(ratio.GetProperty("numerator").GetString()!, unit)] / medians[(ratio.GetProperty("denominator").GetString()!, unit)];
            Assert.Equal(value, ratio.GetProperty("value").GetDouble(), value * 1e-9);
        }

        return medians;
    }

    /// <summary>The samples of one series record.</summary>
    public static double[] Samples(JsonElement series) => series.GetProperty("samples").EnumerateArray().Select(e => e.GetDouble()).ToArray();
}
