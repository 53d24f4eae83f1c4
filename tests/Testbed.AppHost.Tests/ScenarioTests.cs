using Testbed.Chaos.Scenarios;
using Testbed.TestSupport;

namespace Testbed.AppHost.Tests;

/// <summary>
/// Every scenario of scenarios.yaml through the real app model: the AppHost shaped for the scenario (<c>--scenario</c>),
/// its chaos service running it with all peer traffic through the fault proxy and processes controlled through Aspire,
/// started as a user starts it from the dashboard: the chaos resource's scenario command.
/// </summary>
[Collection(nameof(TestbedCollection))]
public sealed class ScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    public static TheoryData<string> Scenarios() =>
        [.. ScenarioParser.Load(Path.Combine(Repository.Root, "scenarios.yaml")).Scenarios.Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Scenario_passes(string name)
    {
        var scenario = ScenarioParser.Load(Path.Combine(Repository.Root, "scenarios.yaml")).Get(name);
        await using var testbed = await TestbedApp.StartAsync(["--scenario", name], ["tracker", "chaos", .. scenario.Topology.PeerNames.Except(scenario.Topology.LateJoiners)], output);

        var result = await testbed.CommandAsync("chaos", ChaosCommands.ScenarioCommand(name), Patience);

        Assert.True(result.Success, result.Message);
    }
}

/// <summary>Distributed tests run one at a time: each starts several processes on a 2-core machine.</summary>
[CollectionDefinition(nameof(TestbedCollection), DisableParallelization = true)]
public sealed class TestbedCollection;
