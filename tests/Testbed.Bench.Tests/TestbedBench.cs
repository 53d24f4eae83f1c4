using Testbed.TestSupport;

namespace Testbed.Bench.Tests;

/// <summary>`testbed-bench` (built next to the tests) run as a user runs it.</summary>
internal static class TestbedBench
{
    public static Task<DotnetProcess.Outcome> RunAsync(params string[] args) => DotnetProcess.RunAsync("testbed-bench.dll", args);

    /// <summary>The standard output of a run that must succeed: exit 0, else the failure names its stderr.</summary>
    public static async Task<string> OutputAsync(params string[] args)
    {
        var run = await RunAsync(args);
        Assert.True(run.ExitCode == 0, run.Stderr);
        return run.Stdout;
    }
}
