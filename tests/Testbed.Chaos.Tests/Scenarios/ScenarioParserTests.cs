namespace Testbed.Chaos.Tests.Scenarios;

/// <summary>scenarios.yaml parsing: the repository's file, every step kind, and every kind of error with its location.</summary>
public sealed class ScenarioParserTests
{
    private static readonly string[] Required =
    [
        "baseline-convergence", "partition-heal", "crash-restart", "pause-resume", "tracker-outage",
        "corrupt-pieces", "byzantine-miner", "slow-links", "late-joiner", "churn",
    ];

    [Fact]
    public void The_repository_file_parses_and_has_every_required_scenario()
    {
        var file = ScenarioParser.Load(Path.Combine(AppContext.BaseDirectory, "scenarios.yaml"));
        foreach (var name in Required)
        {
            var scenario = file.Get(name);
            Assert.NotEmpty(scenario.Steps);
            Assert.Contains(scenario.Steps, s => s is ExpectStep);
            Assert.True(scenario.Topology.DifficultyBits <= 12, $"{name} should use a tiny difficulty");
        }

        Assert.Contains(file.Get("partition-heal").Steps, s => s is PartitionStep { BothWays: true, Groups.Count: 2 });
        Assert.Contains(file.Get("crash-restart").Steps, s => s is ProcessStep { Action: "kill" });
        Assert.Contains(file.Get("tracker-outage").Steps, s => s is ProcessStep { Action: "kill", On: ["tracker"] });
        Assert.Equal(["peer-4"], file.Get("late-joiner").Topology.LateJoiners);
        var join = file.Get("tracker-down-join").Topology;
        Assert.Equal(["peer-4"], join.LateJoiners);
        Assert.Equal(["peer-1"], join.DhtBootstrap["peer-4"]);
        Assert.Empty(file.Get("late-joiner").Topology.DhtBootstrap);
    }

    [Fact]
    public void Every_step_kind_parses_into_its_model()
    {
        var file = ScenarioParser.Parse("""
            scenarios:
              - name: all-steps
                peers: 3
                difficulty_bits: 6
                timeout: 2m
                mining_interval: 250ms
                steps:
                  - mine: { on: [peer-2], blocks: 4 }
                  - mining: { action: start }
                  - transactions: { on: peer-1, count: 7 }
                  - partition: [[peer-1], [peer-2, peer-3]]
                  - partition: { groups: [[peer-1], [peer-2]], direction: one-way }
                  - heal: {}
                  - toxic: { from: [peer-1], to: [peer-2], kind: latency, latency: 200ms, jitter: 20ms, both_ways: true }
                  - toxic: { kind: bandwidth, rate: 1024 }
                  - toxic: { kind: stall, close_after: 3s }
                  - toxic: { kind: reset, after: 100ms }
                  - toxic: { kind: slicer, average_size: 10, size_variation: 3, delay: 1ms }
                  - toxic: { kind: limit_data, bytes: 500 }
                  - clear_toxics:
                  - kill: peer-1
                  - pause: [peer-2, peer-3]
                  - resume: { on: [peer-2] }
                  - restart: tracker
                  - stop: "*"
                  - start: peer-1
                  - fault: { on: [peer-3], name: clock-skew, skew: -30s }
                  - fault: { on: [peer-3], name: drop-announcements, share: 0.5 }
                  - clear_fault: { on: [peer-3], name: clock-skew }
                  - wait: 1.5s
                  - wait: { duration: 2s }
                  - expect: { converged: true, within: 20s, height_at_least: 3, reorgs_at_least: 1, rejected_at_least: 0, banned_at_least: 0, mempool_at_most: 0, exclude: [peer-3] }
            """);

        var scenario = Assert.Single(file.Scenarios);
        Assert.Equal(new Topology(3, 6, [], TimeSpan.FromMilliseconds(250)), scenario.Topology with { LateJoiners = [] });
        Assert.Equal(TimeSpan.FromMinutes(2), scenario.Timeout);
        var steps = scenario.Steps;
        Assert.Equal(25, steps.Count);
        Assert.Equal(Enumerable.Range(1, 25), steps.Select(s => s.Index));
        Assert.Equal(["peer-2"], Assert.IsType<MineStep>(steps[0]).On);
        Assert.Equal(4, ((MineStep)steps[0]).Blocks);
        Assert.Equal(["peer-1", "peer-2", "peer-3"], Assert.IsType<MiningStep>(steps[1]).On);
        Assert.True(((MiningStep)steps[1]).Start);
        Assert.Equal(7, Assert.IsType<TransactionsStep>(steps[2]).Count);
        Assert.Equal([["peer-1"], ["peer-2", "peer-3"]], Assert.IsType<PartitionStep>(steps[3]).Groups.Select(g => g.ToArray()));
        Assert.False(Assert.IsType<PartitionStep>(steps[4]).BothWays);
        Assert.IsType<HealStep>(steps[5]);
        var latency = Assert.IsType<ToxicStep>(steps[6]);
        Assert.Equal(new LatencyToxic(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(20)), latency.Toxic);
        Assert.True(latency.BothWays);
        Assert.Equal(["peer-1->peer-2"], latency.Targets);
        Assert.Equal(new BandwidthToxic(1024), ((ToxicStep)steps[7]).Toxic);
        Assert.Equal(["peer-1", "peer-2", "peer-3"], ((ToxicStep)steps[7]).From);
        Assert.Equal(new StallToxic(TimeSpan.FromSeconds(3)), ((ToxicStep)steps[8]).Toxic);
        Assert.Equal(new ResetToxic(TimeSpan.FromMilliseconds(100)), ((ToxicStep)steps[9]).Toxic);
        Assert.Equal(new SlicerToxic(10, 3, TimeSpan.FromMilliseconds(1)), ((ToxicStep)steps[10]).Toxic);
        Assert.Equal(new LimitDataToxic(500), ((ToxicStep)steps[11]).Toxic);
        Assert.IsType<ClearToxicsStep>(steps[12]);
        Assert.Equal("kill", ((ProcessStep)steps[13]).Action);
        Assert.Equal(["peer-1"], ((ProcessStep)steps[13]).On);
        Assert.Equal(["peer-2", "peer-3"], ((ProcessStep)steps[14]).On);
        Assert.Equal(["peer-2"], ((ProcessStep)steps[15]).On);
        Assert.Equal(["tracker"], ((ProcessStep)steps[16]).On);
        Assert.Equal(["peer-1", "peer-2", "peer-3"], ((ProcessStep)steps[17]).On);
        Assert.Equal(-30_000, Assert.IsType<PeerFaultStep>(steps[19]).SkewMs);
        Assert.Equal(0.5, ((PeerFaultStep)steps[20]).Share);
        Assert.Equal("clock-skew", Assert.IsType<ClearFaultStep>(steps[21]).Name);
        Assert.Equal(TimeSpan.FromSeconds(1.5), Assert.IsType<WaitStep>(steps[22]).Duration);
        Assert.Equal(TimeSpan.FromSeconds(2), Assert.IsType<WaitStep>(steps[23]).Duration);
        var expect = Assert.IsType<ExpectStep>(steps[24]).Expectation;
        Assert.Equal((true, TimeSpan.FromSeconds(20), 3L, 1, 0, 0, 0), (expect.Converged, expect.Within, expect.HeightAtLeast, expect.ReorgsAtLeast, expect.RejectedAtLeast, expect.BannedAtLeast, expect.MempoolAtMost));
        Assert.Equal(["peer-3"], expect.Exclude);
        Assert.True(steps[3].IsFault);
        Assert.False(steps[0].IsFault);
    }

    [Theory]
    [InlineData("scenarios: [", null, null, null, "not valid YAML")]
    [InlineData("- a\n- b", null, null, null, "one YAML mapping")]
    [InlineData("other: 1", null, null, "other", "unknown field")]
    [InlineData("scenarios:\n  - peers: 2\n    steps: [ { wait: 1s } ]", null, null, "name", "needs a name")]
    [InlineData("scenarios:\n  - name: Bad_Name\n    peers: 2\n    steps: [ { wait: 1s } ]", "Bad_Name", null, "name", "lowercase")]
    [InlineData("scenarios:\n  - name: s\n    peers: 99\n    steps: [ { wait: 1s } ]", "s", null, "peers", "1..32")]
    [InlineData("scenarios:\n  - name: s\n    steps: [ { wait: 1s } ]", "s", null, "peers", "is required")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    colour: red\n    steps: [ { wait: 1s } ]", "s", null, "colour", "unknown field")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2", "s", null, "steps", "non-empty list")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { wait: 1s }, { jump: {} } ]", "s", 2, null, "unknown step kind 'jump'")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { wait: 1s, mine: {} } ]", "s", 1, null, "exactly one key")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { mine: { on: [peer-3], blocks: 1 } } ]", "s", 1, "on", "unknown target 'peer-3'")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { mine: { blocks: lots } } ]", "s", 1, "blocks", "whole number")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { mine: { on: [peer-1] } } ]", "s", 1, "blocks", "is required")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { mine: { blocks: 1, speed: 3 } } ]", "s", 1, "speed", "unknown field")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { wait: soon } ]", "s", 1, "duration", "duration")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { wait: 2h } ]", "s", 1, "duration", "duration")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { partition: [[peer-1]] } ]", "s", 1, "groups", "at least two groups")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { partition: [[peer-1], [peer-1, peer-2]] } ]", "s", 1, "groups", "more than one group")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { partition: { groups: [[peer-1], [peer-2]], direction: sideways } } ]", "s", 1, "direction", "both or one-way")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { toxic: { kind: gremlin } } ]", "s", 1, "kind", "unknown toxic")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { toxic: { kind: latency } } ]", "s", 1, "latency", "is required")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { toxic: { kind: bandwidth, rate: 0 } } ]", "s", 1, "rate", "whole number")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { toxic: { kind: latency, latency: 1s, both_ways: maybe } } ]", "s", 1, "both_ways", "true or false")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { kill: dashboard } ]", "s", 1, "on", "unknown target 'dashboard'")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { fault: { on: [peer-1], name: gremlins } } ]", "s", 1, "name", "unknown fault")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { fault: { on: [peer-1], name: corrupt-pieces, share: 2 } } ]", "s", 1, "share", "0..1")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { fault: { on: [peer-1], name: clock-skew } } ]", "s", 1, "skew", "needs a skew")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { fault: { name: withhold } } ]", "s", 1, "on", "is required")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { expect: { within: 3s } } ]", "s", 1, null, "something to check")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { expect: { converged: false } } ]", "s", 1, "converged", "only 'converged: true'")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { heal: { now: true } } ]", "s", 1, "now", "takes none")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    late_joiners: [peer-9]\n    steps: [ { wait: 1s } ]", "s", null, "late_joiners", "unknown target")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    dht_bootstrap: { peer-9: [peer-1] }\n    steps: [ { wait: 1s } ]", "s", null, "dht_bootstrap", "unknown peer 'peer-9'")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    dht_bootstrap: { peer-2: [peer-3] }\n    steps: [ { wait: 1s } ]", "s", null, "dht_bootstrap", "unknown target 'peer-3'")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    dht_bootstrap: { peer-2: peer-2 }\n    steps: [ { wait: 1s } ]", "s", null, "dht_bootstrap", "cannot bootstrap from itself")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    dht_bootstrap: [peer-1]\n    steps: [ { wait: 1s } ]", "s", null, "dht_bootstrap", "must map a peer")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { expect: { connected_at_least: many } } ]", "s", 1, "connected_at_least", "whole number")]
    [InlineData("scenarios:\n  - name: s\n    peers: 2\n    steps: [ { wait: 1s } ]\n  - name: s\n    peers: 2\n    steps: [ { wait: 1s } ]", "s", null, "name", "same name")]
    public void Errors_name_the_scenario_the_step_and_the_field(string yaml, string? scenario, int? step, string? field, string message)
    {
        var error = Assert.Throws<ScenarioParseException>(() => ScenarioParser.Parse(yaml));
        var first = error.Errors[0];
        Assert.Equal(scenario, first.Scenario);
        Assert.Equal(step, first.Step);
        Assert.Equal(field, first.Field);
        Assert.Contains(message, first.Message, StringComparison.Ordinal);
        Assert.Contains(first.ToString(), error.Message, StringComparison.Ordinal);
        Assert.True(first.Line >= 1);
    }

    [Fact]
    public void The_message_reads_with_line_scenario_step_kind_and_field_and_every_error_is_listed()
    {
        var error = Assert.Throws<ScenarioParseException>(() => ScenarioParser.Parse("""
            scenarios:
              - name: broken
                peers: 2
                steps:
                  - mine: { blocks: 1 }
                  - toxic: { kind: latency, latency: fast }
                  - kill: peer-7
            """, "my.yaml"));
        Assert.Equal(2, error.Errors.Count);
        Assert.Equal("line 6: scenario 'broken', step 2 (toxic), field 'latency': must be a duration such as 500ms, 20s or 2m (at most 3600s), not 'fast'", error.Errors[0].ToString());
        Assert.Equal(7, error.Errors[1].Line);
        Assert.Equal("kill", error.Errors[1].StepKind);
        Assert.StartsWith("my.yaml is not a valid scenarios file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_or_huge_file_is_refused_with_a_clear_error()
    {
        Assert.Throws<FileNotFoundException>(() => ScenarioParser.Load("/nonexistent/scenarios.yaml"));
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, new string('#', ScenarioParser.MaxFileBytes + 1));
            var error = Assert.Throws<ScenarioParseException>(() => ScenarioParser.Load(path));
            Assert.Contains($"larger than {ScenarioParser.MaxFileBytes} bytes", error.Errors[0].Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("20s", 20_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    public void Durations_parse(string text, int milliseconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
        Assert.True(DurationText.TryParse(DurationText.Format(duration), out var again));
        Assert.Equal(duration, again);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("-1s")]
    [InlineData("1h")]
    [InlineData("61m")]
    [InlineData("1e3ms")]
    public void Bad_durations_do_not_parse(string text) => Assert.False(DurationText.TryParse(text, out _));
}
