using Testbed.Chaos.Scenarios;
using Xunit.Abstractions;

namespace Testbed.Chaos.IntegrationTests;

/// <summary>Every scenario of scenarios.yaml, run against real tracker and peer processes through the harness.</summary>
[Collection(nameof(ScenarioCollection))]
public sealed class ScenarioRunTests(ITestOutputHelper output)
{
    /// <summary>Why the network-fault scenarios are skipped for now; remove the Skip once the peer has the two settings.</summary>
    private const string NeedsPeerAddresses =
        "Needs the peer (issue 8) to bind Testbed:BindAddress (listeners and outgoing connections) and to announce Testbed:AdvertiseAddress, " +
        "so its traffic goes through the fault proxy; without them the run fails at its first partition/toxic step saying so.";

    private static ScenarioFile File => ScenarioParser.Load(Path.Combine(AppContext.BaseDirectory, "scenarios.yaml"));

    public static TheoryData<string> ProcessAndApplicationScenarios() => Names(network: false);

    public static TheoryData<string> NetworkScenarios() => Names(network: true);

    [Theory]
    [MemberData(nameof(ProcessAndApplicationScenarios))]
    public Task Scenario_passes(string name) => RunAsync(name);

    [Theory(Skip = NeedsPeerAddresses)]
    [MemberData(nameof(NetworkScenarios))]
    public Task Network_fault_scenario_passes(string name) => RunAsync(name);

    [Fact]
    public void Every_scenario_is_run_by_one_of_the_two_theories()
    {
        Assert.Equal(File.Scenarios.Count, ProcessAndApplicationScenarios().Count + NetworkScenarios().Count);
        Assert.Contains(File.Scenarios, s => s.Name == "partition-heal");
    }

    private async Task RunAsync(string name)
    {
        var report = await ScenarioTestbed.RunAsync(File.Get(name), output);
        Assert.True(report.Passed, report.ToJson());
    }

    private static TheoryData<string> Names(bool network)
    {
        var data = new TheoryData<string>();
        foreach (var scenario in File.Scenarios.Where(s => s.Steps.Any(step => step is PartitionStep or ToxicStep) == network))
        {
            data.Add(scenario.Name);
        }

        return data;
    }
}

/// <summary>Scenarios run one at a time: each starts several processes on a 2-core machine.</summary>
[CollectionDefinition(nameof(ScenarioCollection), DisableParallelization = true)]
public sealed class ScenarioCollection;
