using System.Text.Json;
using Testbed.Processes;
using Testbed.TestSupport;

namespace Testbed.Bench.Tests;

/// <summary>
/// <c>bench propagation</c>, <c>bench sync</c> and <c>bench startup</c> as a user runs them, at small sizes and the least
/// rounds: the tracker and peers of the app model talking directly (no chaos), the sync bench's seeders starting with a
/// prepared chain and a fresh peer started each round. Figures depend on the machine's load, so only the output's shape
/// and consistency are checked, never a time: every series has one sample a round with its median between min and max,
/// ratios are ratios of the printed medians, the limit is there, exit 0 when the target was met, 1 when not, and the
/// JSON's <c>met</c> agrees.
/// </summary>
[Collection(nameof(AppHostBenchCollection))]
public sealed class AppHostBenchTests
{
    private const int Rounds = 5;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(20);
    private static readonly string[] Propagation = ["propagation", "--peers", "3", "--blocks", "3", "--transactions", "10", "--rounds", "5"];

    [Fact]
    public async Task Propagation_times_every_delivery_of_blocks_with_transactions_each_round_beside_the_fsync_limit()
    {
        var (exit, output) = await RunAsync([.. Propagation, "--json"]);

        var json = Json(exit, output);
        Assert.Equal(10, json.GetProperty("transactions_per_block").GetInt32());
        // Every block mined on one peer is replayed on the two others, every round.
        Assert.All(json.GetProperty("deliveries_per_round").EnumerateArray(), d => Assert.Equal(6, d.GetInt32()));
        var series = Series(json, expected: 10);
        var p50 = series[("delivery p50", "ms")];
        var p99 = series[("delivery p99", "ms")];
        Assert.Equal(p50, json.GetProperty("p50_ms").GetDouble());
        Assert.Equal(p99, json.GetProperty("p99_ms").GetDouble());
        Assert.True(p99 >= p50, output);
        Assert.Contains("fsync", Limit(json.GetProperty("limit")), StringComparison.Ordinal);
        Assert.Equal(p50 <= 10 && p99 <= 40, json.GetProperty("met").GetBoolean());
    }

    [Fact]
    public async Task Propagation_text_prints_a_series_a_metric_ratios_of_its_medians_the_limit_and_the_target()
    {
        var (exit, output) = await RunAsync(Propagation);

        Assert.True(exit is 0 or 1, $"exit {exit}\n{output}");
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        var printed = PrintedOutput.Read(lines, "ms");
        var medians = printed.Medians(Rounds);

        Assert.Equal(10, medians.Count);
        Assert.Equal(2, printed.Ratios.Count);
        printed.AssertRatiosMatchMedians(medians);

        var limit = Assert.Single(lines, l => l.StartsWith("limit: ", StringComparison.Ordinal));
        Assert.Contains("fsync", limit, StringComparison.Ordinal);
        Assert.Contains($"n={Rounds}), measured in this run", limit, StringComparison.Ordinal);
        var target = Assert.Single(lines, l => l.StartsWith("target: ", StringComparison.Ordinal));
        Assert.Equal(exit == 0, !target.Contains("NOT met", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("load average", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sync_has_a_fresh_peer_a_round_catch_up_from_seeders_started_with_the_chain_beside_the_single_core_limits()
    {
        var (exit, output) = await RunAsync("sync", "--blocks", "40", "--transactions", "5", "--seeders", "2", "--segment-blocks", "8", "--rounds", "5", "--json");

        var json = Json(exit, output);
        Assert.Equal(40, json.GetProperty("blocks").GetInt32());
        Assert.Equal(8, json.GetProperty("segment_blocks").GetInt32());
        Assert.All(json.GetProperty("segments_per_round").EnumerateArray(), s => Assert.True(s.GetInt64() >= 1, output));
        var series = Series(json, expected: 6);
        var ratio = Assert.Single(json.GetProperty("ratios").EnumerateArray());
        Assert.Equal("blocks/s", ratio.GetProperty("unit").GetString());
        Assert.True(series[("fresh peer from 2 seeders", "blocks/s")] > 0, output);
        var limits = json.GetProperty("limits").EnumerateArray().Select(Limit).ToList();
        Assert.Equal(2, limits.Count);
        Assert.Contains(limits, l => l.Contains("ES256", StringComparison.Ordinal));
        Assert.Equal(ratio.GetProperty("value").GetDouble() >= 1.5, json.GetProperty("met").GetBoolean());
    }

    [Fact]
    public async Task Startup_alternates_the_testbed_model_and_a_plain_one_of_as_many_services()
    {
        var (exit, output) = await RunAsync("startup", "--peers", "1", "--rounds", "5", "--json");

        var json = Json(exit, output);
        Assert.Equal(3, json.GetProperty("services").GetInt32());
        var series = Series(json, expected: 4);
        Assert.Equal(2, json.GetProperty("ratios").GetArrayLength());
        Assert.Contains("trivial web projects", Limit(json.GetProperty("limit")), StringComparison.Ordinal);
        var startRatio = series[("testbed: tracker, 1 peer, chaos", "s, start to healthy")] / series[("plain: 3 trivial web projects", "s, start to healthy")];
        Assert.Equal(startRatio <= 1.3 && series[("testbed: tracker, 1 peer, chaos", "s, teardown to gone")] < 1, json.GetProperty("met").GetBoolean());
    }

    [Theory]
    [InlineData("one peer", "--peers must be 2..32", "propagation", "--peers", "1")]
    [InlineData("too many blocks", "--blocks 1..1000", "propagation", "--blocks", "1001")]
    [InlineData("too many transactions", "--transactions 0..200", "propagation", "--transactions", "201")]
    [InlineData("too hard", "error: --difficulty (Testbed:DifficultyBits) must be a whole number from 1 to 64 (leading zero bits of a block hash), not '65'", "propagation", "--difficulty", "65")]
    [InlineData("too few rounds", "--rounds must be in 5..100", "propagation", "--rounds", "4")]
    [InlineData("no seeders", "--seeders 1..16", "sync", "--seeders", "0")]
    [InlineData("huge segments", "--segment-blocks 1..4096", "sync", "--segment-blocks", "5000")]
    [InlineData("a fresh peer a round past the peer limit", "--seeders + --rounds must be at most 32", "sync", "--seeders", "16", "--rounds", "17")]
    [InlineData("not a number", "error:", "sync", "--blocks", "many")]
    [InlineData("no peers", "--peers must be 1..16", "startup", "--peers", "0")]
    [InlineData("too few runs", "--rounds must be in 5..100", "startup", "--runs", "3")]
    public async Task Unusable_arguments_exit_2_with_one_line(string what, string message, params string[] args)
    {
        var (exit, output) = await RunAsync(args);

        Assert.True(exit == 2, $"{what}: exit {exit}\n{output}");
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>The one JSON line of a run that ended 0 or 1, its <c>met</c> agreeing with the exit code and its rounds as asked.</summary>
    private static JsonElement Json(int exit, string output)
    {
        Assert.True(exit is 0 or 1, $"exit {exit}\n{output}");
        var line = Assert.Single(output.Split('\n'), l => l.StartsWith('{'));
        var json = JsonDocument.Parse(line).RootElement.Clone();
        Assert.Equal(exit == 0, json.GetProperty("met").GetBoolean());
        Assert.Equal(Rounds, json.GetProperty("rounds").GetInt32());
        return json;
    }

    /// <summary>The medians of the run's series by (side, unit), checked as <see cref="BenchJson.Medians"/> does, <paramref name="expected"/> of them.</summary>
    private static Dictionary<(string Side, string Unit), double> Series(JsonElement json, int expected)
    {
        var medians = BenchJson.Medians(json, Rounds);
        Assert.Equal(expected, medians.Count);
        return medians;
    }

    /// <summary>A limit record's description, its measured series checked to have one sample a round.</summary>
    private static string Limit(JsonElement limit)
    {
        Assert.Equal(Rounds, limit.GetProperty("measured").GetProperty("samples").GetArrayLength());
        return limit.GetProperty("description").GetString()!;
    }

    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var home = Directory.CreateTempSubdirectory("testbed-bench-");
        try
        {
            using var process = ChildProcess.Start("dotnet", [Repository.BenchAppHostDll, .. args], ChildProcessOptions.InDirectory(home.FullName));
            Assert.True(await process.WaitForExitAsync(Patience), $"bench did not end within {Patience.TotalMinutes:0} min:\n{process.Output}");
            return (process.ExitCode, process.Output);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
