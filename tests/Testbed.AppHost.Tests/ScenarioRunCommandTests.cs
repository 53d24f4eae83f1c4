using Testbed.TestSupport;

namespace Testbed.AppHost.Tests;

/// <summary>
/// <c>dotnet run --project AppHost -- scenario run NAME [--report F]</c> as a user runs it: exit 0 and a passing report
/// (with the run's history beside it, which <c>scenario check</c> reads again) when every check holds, 2 with one line for
/// unusable arguments, and the report's place checked before the run.
/// </summary>
[Collection(nameof(TestbedCollection))]
public sealed class ScenarioRunCommandTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Scenario_run_exits_0_and_writes_a_passing_report()
    {
        var report = Path.Combine(Path.GetTempPath(), $"scenario-report-{Guid.NewGuid():N}.json");
        var history = Path.ChangeExtension(report, ".history.jsonl");
        try
        {
            var (exit, output) = await RunAsync("scenario", "run", "baseline-convergence", "--report", report);

            Assert.True(exit == 0, output);
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
            Assert.True(json.RootElement.GetProperty("passed").GetBoolean());
            Assert.Equal("baseline-convergence", json.RootElement.GetProperty("scenario").GetString());
            Assert.All(json.RootElement.GetProperty("steps").EnumerateArray(), step => Assert.True(step.GetProperty("ok").GetBoolean()));
            Assert.Contains("baseline-convergence passed", output, StringComparison.Ordinal);
            Assert.Contains($"History written to {history}", output, StringComparison.Ordinal);
            Assert.Equal(json.RootElement.GetProperty("invariants").GetArrayLength(), json.RootElement.GetProperty("invariants").EnumerateArray().Count(i => i.GetProperty("ok").GetBoolean()));

            // The checker again, on the saved file alone: the same checks hold.
            var lines = await File.ReadAllLinesAsync(history);
            Assert.StartsWith("{\"type\":\"run\",", lines[0], StringComparison.Ordinal);
            Assert.Contains(lines, l => l.StartsWith("{\"type\":\"block\",", StringComparison.Ordinal) && l.Contains("\"via\":\"mined\"", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("{\"type\":\"consistency\",", StringComparison.Ordinal));
            var (checkExit, checkOutput) = await RunAsync("scenario", "check", history);
            Assert.True(checkExit == 0, checkOutput);
            Assert.Contains("held     no-acknowledged-block-lost", checkOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("VIOLATED", checkOutput, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(report);
            File.Delete(history);
        }
    }

    [Fact]
    public async Task Scenario_check_exits_2_for_an_unreadable_history_and_1_when_a_check_fails()
    {
        var directory = Directory.CreateTempSubdirectory("testbed-scenario-check-");
        try
        {
            var garbage = Path.Combine(directory.FullName, "garbage.jsonl");
            await File.WriteAllTextAsync(garbage, "{\"type\":\"crash\"\n");
            var (exit, output) = await RunAsync("scenario", "check", garbage);
            Assert.True(exit == 2, output);
            Assert.Contains("line 1:", output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);

            // A history with no run header and no consistency checks: the checks that cannot pass say so.
            var empty = Path.Combine(directory.FullName, "empty.jsonl");
            await File.WriteAllTextAsync(empty, "\n");
            (exit, output) = await RunAsync("scenario", "check", empty);
            Assert.True(exit == 1, output);
            Assert.Contains("VIOLATED chain-consistent: no consistency check was recorded", output, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("no such scenario", "no scenario named 'no-such'", "scenario", "run", "no-such")]
    [InlineData("report in a missing directory", "does not exist", "scenario", "run", "baseline-convergence", "--report", "/nonexistent-testbed-dir/r.json")]
    [InlineData("report is a directory", "is a directory", "scenario", "run", "baseline-convergence", "--report", "/tmp")]
    [InlineData("unknown option", "error:", "scenario", "run", "baseline-convergence", "--frobnicate")]
    public async Task Unusable_arguments_exit_2_with_one_line_before_anything_starts(string what, string message, params string[] args)
    {
        var (exit, output) = await RunAsync(args);

        Assert.True(exit == 2, $"{what}: exit {exit}\n{output}");
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Starting tracker", output, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var home = Directory.CreateTempSubdirectory("testbed-scenario-run-");
        try
        {
            string[] file = args is [_, "run", ..] ? ["--file", Path.Combine(Repository.Root, "scenarios.yaml")] : [];
            using var process = ChildProcess.Start("dotnet", [Repository.AppHostDll, .. args, .. file], ChildProcessOptions.InDirectory(home.FullName));
            Assert.True(await process.WaitForExitAsync(Patience), $"scenario run did not end within {Patience.TotalMinutes:0} min:\n{process.Output}");
            return (process.ExitCode, process.Output);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
