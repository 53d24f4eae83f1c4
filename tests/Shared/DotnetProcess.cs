using System.Diagnostics;

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
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return new Outcome(process.ExitCode, await stdout, await stderr);
    }
}
