using System.Text.Json;
using Testbed.TestSupport;

namespace Testbed.Bench.Tests;

/// <summary>
/// <c>propagation</c> and <c>sync</c> of bench/Testbed.Bench.AppHost as a user runs them, at small sizes: the tracker and peers of the app
/// model talking directly (no chaos), the sync bench's seeders starting with a prepared chain and its fresh peer started
/// later. Figures depend on the machine's load, so only their presence and consistency are checked, never a target: exit
/// 0 when the target was met, 1 when not, and the JSON's <c>met</c> agrees.
/// </summary>
[Collection(nameof(AppHostBenchCollection))]
public sealed class AppHostBenchTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Propagation_measures_every_delivery_between_directly_linked_peers()
    {
        var (exit, output) = await RunAsync("propagation", "--peers", "3", "--blocks", "3", "--json");

        var json = Json(exit, output);
        Assert.Equal(3, json.GetProperty("blocks").GetInt32());
        // Every block mined on one peer is replayed on the two others.
        Assert.Equal(6, json.GetProperty("deliveries").GetInt32());
        Assert.True(json.GetProperty("p50Ms").GetDouble() >= 0, output);
        Assert.True(json.GetProperty("p99Ms").GetDouble() >= json.GetProperty("p50Ms").GetDouble(), output);
    }

    [Fact]
    public async Task Sync_has_a_fresh_peer_catch_up_from_seeders_started_with_the_chain()
    {
        var (exit, output) = await RunAsync("sync", "--blocks", "40", "--seeders", "2", "--segment-blocks", "8", "--json");

        var json = Json(exit, output);
        Assert.Equal(40, json.GetProperty("blocks").GetInt32());
        Assert.Equal(8, json.GetProperty("segmentBlocks").GetInt32());
        Assert.True(json.GetProperty("segments").GetInt64() >= 1, output);
        Assert.True(json.GetProperty("syncBlocksPerSecond").GetDouble() > 0, output);
        Assert.True(json.GetProperty("verifyBlocksPerSecond").GetDouble() > 0, output);
    }

    [Theory]
    [InlineData("one peer", "--peers must be 2..32", "propagation", "--peers", "1")]
    [InlineData("too many blocks", "--blocks 1..1000", "propagation", "--blocks", "1001")]
    [InlineData("too hard", "error: --difficulty (Testbed:DifficultyBits) must be a whole number from 1 to 64 (leading zero bits of a block hash), not '65'", "propagation", "--difficulty", "65")]
    [InlineData("no seeders", "--seeders 1..16", "sync", "--seeders", "0")]
    [InlineData("huge segments", "--segment-blocks 1..4096", "sync", "--segment-blocks", "5000")]
    [InlineData("not a number", "error:", "sync", "--blocks", "many")]
    public async Task Unusable_arguments_exit_2_with_one_line(string what, string message, params string[] args)
    {
        var (exit, output) = await RunAsync(args);

        Assert.True(exit == 2, $"{what}: exit {exit}\n{output}");
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>The one JSON line of a run that ended 0 or 1, its <c>met</c> agreeing with the exit code.</summary>
    private static JsonElement Json(int exit, string output)
    {
        Assert.True(exit is 0 or 1, $"exit {exit}\n{output}");
        var line = Assert.Single(output.Split('\n'), l => l.StartsWith('{'));
        var json = JsonDocument.Parse(line).RootElement.Clone();
        Assert.Equal(exit == 0, json.GetProperty("met").GetBoolean());
        return json;
    }

    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var home = Directory.CreateTempSubdirectory("testbed-bench-");
        try
        {
            using var process = ExternalProcess.Start("dotnet", [Repository.BenchAppHostDll, .. args], home.FullName);
            Assert.True(await process.WaitForExitAsync(Patience), $"bench did not end within {Patience.TotalMinutes:0} min:\n{process.Output}");
            return (process.ExitCode, process.Output);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
