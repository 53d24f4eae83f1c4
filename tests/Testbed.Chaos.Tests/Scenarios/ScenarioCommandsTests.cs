using System.CommandLine;
using Testbed.Chaos.Cli;
using Testbed.Chaos.Tests.Checking;

namespace Testbed.Chaos.Tests.Scenarios;

/// <summary>`scenario list` and `scenario check` exit codes: 0 listed or every check held, 1 a check failed, 2 unusable files.</summary>
public sealed class ScenarioCommandsTests
{
    private static readonly string File = Path.Combine(AppContext.BaseDirectory, "scenarios.yaml");

    [Fact]
    public async Task List_exits_0_and_an_unusable_file_exits_2()
    {
        Assert.Equal(0, await Invoke("list", "--file", File));
        Assert.Equal(2, await Invoke("list", "--file", "/nonexistent/scenarios.yaml"));
    }

    [Fact]
    public async Task Check_rereads_a_saved_history_exit_0_when_every_check_holds_1_when_one_fails_2_when_unreadable()
    {
        var directory = Path.Combine(Path.GetTempPath(), "chaos-check-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(directory);
        try
        {
            var good = Path.Combine(directory, "good.jsonl");
            using (var writer = new HistoryWriter(good))
            {
                foreach (var item in HistoryFileTests.Sample(honest: true))
                {
                    writer.Write(item);
                }
            }

            var bad = Path.Combine(directory, "bad.jsonl");
            using (var writer = new HistoryWriter(bad))
            {
                foreach (var item in HistoryFileTests.Sample(honest: false))
                {
                    writer.Write(item);
                }
            }

            var garbage = Path.Combine(directory, "garbage.jsonl");
            await System.IO.File.WriteAllTextAsync(garbage, "{\"type\":\"run\",\"at\":\"2026-11-24T04:00:00Z\",\"scenario\":\"x\",\"peers\":[],\"steps\":[]}\nnot json\n");

            Assert.Equal(0, await Invoke("check", good));
            Assert.Equal(0, await Invoke("check", good, "--json"));
            Assert.Equal(1, await Invoke("check", bad));
            Assert.Equal(2, await Invoke("check", garbage));
            Assert.Equal(2, await Invoke("check", Path.Combine(directory, "missing.jsonl")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task<int> Invoke(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(ScenarioCommands.Create());
        return root.Parse(["scenario", .. args]).InvokeAsync();
    }
}
