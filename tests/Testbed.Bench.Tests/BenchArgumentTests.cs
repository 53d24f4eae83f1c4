namespace Testbed.Bench.Tests;

/// <summary>`testbed-bench` refuses unusable arguments before it measures anything: exit 2, one line in words.</summary>
public sealed class BenchArgumentTests
{
    [Theory]
    [InlineData("a fraction of a second", "as a whole number", "tracker", "--seconds", "0.5")]
    [InlineData("a word for a size", "as a whole number", "torrent", "--size", "big")]
    [InlineData("no such bench", "nope", "nope")]
    [InlineData("no bench at all", "error:")]
    public async Task Unusable_arguments_exit_2_with_one_line_and_no_type_names(string what, string mention, params string[] args)
    {
        var run = await TestbedBench.RunAsync(args);

        Assert.True(run.ExitCode == 2, $"{what}: exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(mention, line, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", line, StringComparison.Ordinal);
    }
}
