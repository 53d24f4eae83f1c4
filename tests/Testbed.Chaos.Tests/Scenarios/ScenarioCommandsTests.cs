using System.CommandLine;
using Testbed.Chaos.Cli;

namespace Testbed.Chaos.Tests.Scenarios;

/// <summary>`scenario list` and `scenario run` exit codes without a testbed: 0 listed, 2 for unusable files or names, 1 for a run that fails.</summary>
public sealed class ScenarioCommandsTests
{
    private static readonly string File = Path.Combine(AppContext.BaseDirectory, "scenarios.yaml");

    [Fact]
    public async Task List_exits_0_and_unusable_input_exits_2()
    {
        var started = 0;
        var command = ScenarioCommands.Create((_, _, _) =>
        {
            started++;
            throw new InvalidOperationException("no testbed in this test");
        });

        Assert.Equal(0, await Invoke(command, "list", "--file", File));
        Assert.Equal(2, await Invoke(command, "list", "--file", "/nonexistent/scenarios.yaml"));
        Assert.Equal(2, await Invoke(command, "run", "no-such-scenario", "--file", File));
        Assert.Equal(0, started);
    }

    [Fact]
    public async Task A_run_against_an_unreachable_testbed_exits_1_and_writes_a_failed_report()
    {
        var report = Path.GetTempFileName();
        try
        {
            var command = ScenarioCommands.Create((_, _, _) => Task.FromResult<IScenarioTestbed>(new Unreachable()));
            Assert.Equal(1, await Invoke(command, "run", "baseline-convergence", "--file", File, "--report", report));
            var text = await System.IO.File.ReadAllTextAsync(report);
            Assert.Contains("\"passed\": false", text, StringComparison.Ordinal);
            Assert.Contains("could not be reached", text, StringComparison.Ordinal);
        }
        finally
        {
            System.IO.File.Delete(report);
        }
    }

    private static Task<int> Invoke(Command scenario, params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(scenario);
        return root.Parse(["scenario", .. args]).InvokeAsync();
    }

    private sealed class Unreachable : IScenarioTestbed
    {
        public Uri ControlApiUrl { get; } = new("http://127.0.0.1:9/");

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
