using Testbed.Processes;

namespace Testbed.TestSupport;

/// <summary>
/// Runs a .NET program built next to the tests (<c>dotnet NAME.dll ARGS</c>, the dll in the tests' output directory) as a
/// child process: its exit code and output, killed with its tree after two minutes. Linked into the test projects of tools.
/// </summary>
internal static class DotnetProcess
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr);

    public static async Task<Outcome> RunAsync(string dll, params string[] args)
    {
        var run = await ChildProcess.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, dll), .. args], TimeSpan.FromMinutes(2));
        return new Outcome(run.ExitCode, run.StandardOutput, run.StandardError);
    }
}
