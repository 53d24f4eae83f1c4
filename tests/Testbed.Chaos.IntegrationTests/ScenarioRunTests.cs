using Testbed.Chaos.Scenarios;
using Xunit.Abstractions;

namespace Testbed.Chaos.IntegrationTests;

/// <summary>
/// Every scenario of scenarios.yaml, run against real tracker and peer processes through the harness, with every
/// peer-to-peer connection going through the fault proxy (each peer binds its own loopback address and advertises the proxy's).
/// </summary>
[Collection(nameof(ScenarioCollection))]
public sealed class ScenarioRunTests(ITestOutputHelper output)
{
    private static ScenarioFile File => ScenarioParser.Load(Path.Combine(AppContext.BaseDirectory, "scenarios.yaml"));

    public static TheoryData<string> Scenarios() => [.. File.Scenarios.Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Scenario_passes(string name)
    {
        var report = await ScenarioTestbed.RunAsync(File.Get(name), output);
        Assert.True(report.Passed, report.ToJson());
    }
}

/// <summary>Scenarios run one at a time: each starts several processes on a 2-core machine.</summary>
[CollectionDefinition(nameof(ScenarioCollection), DisableParallelization = true)]
public sealed class ScenarioCollection;
