using Testbed.AppHost.Orchestration;

namespace Testbed.IntegrationTests;

/// <summary>The per-resource console buffer stays bounded and keeps the newest lines.</summary>
public sealed class ConsoleLogTests
{
    [Fact]
    public void Keeps_the_last_lines_in_order_and_counts_all()
    {
        var log = new ConsoleLog(3);
        for (var index = 0; index < 5; index++)
        {
            log.Append("stdout", $"line {index}");
        }

        Assert.Equal(5, log.TotalLines);
        Assert.Equal(["line 2", "line 3", "line 4"], log.Tail(10).Select(line => line.Text));
        Assert.Equal([3L, 4L], log.Tail(2).Select(line => line.Sequence));
        Assert.Empty(log.Tail(0));
    }

    [Fact]
    public void Cuts_runaway_lines()
    {
        var log = new ConsoleLog(2);
        log.Append("stderr", new string('x', ConsoleLog.MaxLineLength * 3));
        var line = Assert.Single(log.Tail(1));
        Assert.True(line.Text.Length < ConsoleLog.MaxLineLength + 16);
        Assert.EndsWith("[cut]", line.Text, StringComparison.Ordinal);
    }
}
