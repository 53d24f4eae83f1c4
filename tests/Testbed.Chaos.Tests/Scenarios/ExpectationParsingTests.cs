namespace Testbed.Chaos.Tests.Scenarios;

/// <summary>The <c>invalid_rejected</c> expectation and the scenarios that prove the checks: what the repository's file asks for.</summary>
public sealed class ExpectationParsingTests
{
    [Fact]
    public void Invalid_rejected_parses_and_only_true_can_be_expected()
    {
        var file = ScenarioParser.Parse("""
            scenarios:
              - name: byz
                peers: 2
                difficulty_bits: 6
                steps:
                  - expect: { invalid_rejected: true, within: 5s, exclude: [peer-2] }
            """, "test");
        var expect = Assert.IsType<ExpectStep>(Assert.Single(file.Get("byz").Steps));
        Assert.True(expect.Expectation.InvalidRejected);
        Assert.Null(expect.Expectation.Converged);

        var error = Assert.Throws<ScenarioParseException>(() => ScenarioParser.Parse("""
            scenarios:
              - name: byz
                peers: 2
                steps:
                  - expect: { invalid_rejected: false }
            """, "test"));
        Assert.Contains("only 'invalid_rejected: true' can be expected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_repository_scenarios_give_each_defect_something_to_catch()
    {
        var file = ScenarioParser.Load(Path.Combine(AppContext.BaseDirectory, "scenarios.yaml"));
        // byzantine-miner: every honest receiver must reject, not merely someone somewhere.
        Assert.Contains(file.Get("byzantine-miner").Steps, s => s is ExpectStep { Expectation.InvalidRejected: true });
        // crash-restart: a peer killed right after it acknowledged the blocks it mined.
        var steps = file.Get("crash-restart").Steps;
        Assert.Contains(steps.Zip(steps.Skip(1)), p => p.First is MineStep { On: [var miner] } && p.Second is ProcessStep { Action: "kill", On: [var killed] } && miner == killed);
        // partition-heal: a reorganisation; baseline-convergence: a mine step on a second peer.
        Assert.Contains(file.Get("partition-heal").Steps, s => s is ExpectStep { Expectation.ReorgsAtLeast: >= 1 });
        Assert.Contains(file.Get("baseline-convergence").Steps, s => s is MineStep { On: ["peer-2"] });
    }
}
