using System.ComponentModel;
using System.Diagnostics;

namespace Testbed.Bench.Measurement;

/// <summary>
/// Runs an outside tool a bench compares with (openssl, python3) to its end and hands back what it printed; a tool that
/// cannot start or outlives its time gives null, and a timed-out tool is killed with everything it started.
/// </summary>
public static class ToolRun
{
    /// <summary>What a finished tool printed and its exit code.</summary>
    public sealed record Output(int ExitCode, string Stdout, string Stderr);

    public static async Task<Output?> RunAsync(string path, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            if (!process.Start())
            {
                return null;
            }
        }
        catch (Win32Exception)
        {
            return null;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(limit.Token);
            var stderr = process.StandardError.ReadToEndAsync(limit.Token);
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            return new Output(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
    }

    /// <summary>The standard output of a run that ended with exit code 0, else null.</summary>
    public static async Task<string?> StdoutAsync(string path, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
        await RunAsync(path, arguments, timeout, cancellationToken).ConfigureAwait(false) is { ExitCode: 0 } output ? output.Stdout : null;
}
