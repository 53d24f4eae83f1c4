using System.Text.Json;

namespace Testbed.Bench.Tests;

/// <summary>
/// `testbed-bench vm` with tiny sizes: the shape of its text and --json output (repeated, interleaved samples per side,
/// median between min and max, ratios of medians, the limit line). No figure is compared with a time.
/// </summary>
public sealed class BenchVmOutputTests
{
    private static readonly string[] Tiny = ["vm", "--seconds", "0.05", "--actions", "2048", "--rounds", "5"];

    [Fact]
    public async Task Text_output_has_five_samples_per_side_ratios_of_printed_medians_and_a_limit_line()
    {
        var lines = (await TestbedBench.OutputAsync(Tiny)).Split('\n', StringSplitOptions.TrimEntries);

        var printed = PrintedOutput.Read(lines, "per CPU-second", "per second (wall)");
        var medians = printed.Medians(rounds: 5);

        // Six sides (JSON replay, pre-decoded replay, ES256, SUBLEQ core, SUBLEQ metered, SHA-256) in two units each,
        // and the hashing bound per CPU-second (the root bytes per action line is in bytes, not a rate).
        Assert.Equal(13, medians.Count);
        Assert.Contains(lines, l => l.StartsWith("root bytes per action", StringComparison.Ordinal));

        Assert.NotEmpty(printed.Ratios);
        printed.AssertRatiosMatchMedians(medians);

        var limits = lines.Where(l => l.StartsWith("limit: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, limits.Count);
        Assert.Contains("ES256", limits[0], StringComparison.Ordinal);
        Assert.Contains("state-root hashing", limits[1], StringComparison.Ordinal);
        Assert.All(limits, l => Assert.Contains("n=5", l, StringComparison.Ordinal));
        Assert.All(limits, l => Assert.Contains("measured in this run", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Json_output_has_the_same_figures()
    {
        using var json = JsonDocument.Parse(await TestbedBench.OutputAsync([.. Tiny, "--json"]));
        var root = json.RootElement;
        Assert.Equal(5, root.GetProperty("rounds").GetInt32());

        // Every series checked against its samples and every ratio against its medians.
        Assert.Equal(14, BenchJson.Medians(root, rounds: 5).Count);
        Assert.NotEmpty(root.GetProperty("ratios").EnumerateArray());

        var limit = root.GetProperty("limit");
        Assert.Contains("ES256", limit.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(5, limit.GetProperty("measured").GetProperty("samples").GetArrayLength());

        // The hashing bound, round by round: that round's SHA-256 rate over that round's root bytes per action.
        var bound = root.GetProperty("hash_limit").GetProperty("measured").GetProperty("samples").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var sha = Samples("SHA-256 bytes, 4 KiB inputs", "per CPU-second");
        var perAction = Samples("root bytes per action", "bytes (JSON side)");
        Assert.Equal(5, bound.Length);
        for (var round = 0; round < bound.Length; round++)
        {
            Assert.Equal(sha[round] / perAction[round], bound[round], bound[round] * 1e-9);
            Assert.True(perAction[round] > 0, "the JSON side's root hashed no bytes");
        }

        double[] Samples(string side, string unit) => BenchJson.Samples(root.GetProperty("series").EnumerateArray()
            .Single(s => s.GetProperty("side").GetString() == side && s.GetProperty("unit").GetString() == unit));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("4")]
    [InlineData("101")]
    [InlineData("x")]
    public async Task Bad_rounds_exit_with_2(string rounds)
    {
        var run = await TestbedBench.RunAsync("vm", "--rounds", rounds);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--rounds", run.Stderr, StringComparison.Ordinal);
    }
}
