using System.CommandLine;
using System.Text.Json;
using Testbed.Chaos.Cli;
using Testbed.Chaos.Proxy;
using Testbed.Chaos.Scenarios;
using Testbed.Testing;

namespace Testbed.Chaos.IntegrationTests;

/// <summary>
/// `scenario run NAME --report F` end to end, with the testbed started the way the AppHost verb will start it (the harness
/// here): exit code 0 and a passing report for a scenario that holds.
/// </summary>
[Collection(nameof(ScenarioCollection))]
public sealed class ScenarioCommandTests
{
    [Fact]
    public async Task Scenario_run_exits_0_and_writes_a_passing_report()
    {
        var report = Path.Combine(Path.GetTempPath(), $"chaos-report-{Guid.NewGuid():N}.json");
        try
        {
            var scenario = ScenarioCommands.Create(HarnessTestbed.StartAsync);
            var root = new RootCommand("test");
            root.Subcommands.Add(scenario);
            var exit = await root.Parse(["scenario", "run", "baseline-convergence", "--file", Path.Combine(AppContext.BaseDirectory, "scenarios.yaml"), "--report", report]).InvokeAsync();

            Assert.Equal(0, exit);
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
            Assert.True(json.RootElement.GetProperty("passed").GetBoolean());
            Assert.Equal("baseline-convergence", json.RootElement.GetProperty("scenario").GetString());
            Assert.All(json.RootElement.GetProperty("steps").EnumerateArray(), step => Assert.True(step.GetProperty("ok").GetBoolean()));
        }
        finally
        {
            File.Delete(report);
        }
    }

    /// <summary>The harness-backed testbed the command drives.</summary>
    private sealed class HarnessTestbed(DistributedTestbed testbed, DirectoryInfo dataRoot) : IScenarioTestbed
    {
        public Uri ControlApiUrl => testbed.ControlApiUrl;

        public static async Task<IScenarioTestbed> StartAsync(Topology topology, LoopbackPlan plan, CancellationToken cancellationToken)
        {
            var dataRoot = Directory.CreateTempSubdirectory("chaos-cli-");
            var builder = DistributedTestbed.CreateBuilder(options =>
            {
                options.Peers = topology.Peers;
                options.StartupTimeoutSeconds = 120;
            });
            ScenarioTestbed.Define(builder, topology, dataRoot.FullName, plan);
            return new HarnessTestbed(await DistributedTestbed.StartAsync(builder, cancellationToken), dataRoot);
        }

        public async ValueTask DisposeAsync()
        {
            await testbed.DisposeAsync();
            try
            {
                dataRoot.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Files of a just-killed peer may linger a moment; the temp directory is cleaned later.
            }
        }
    }
}
