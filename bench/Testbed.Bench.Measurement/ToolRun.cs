using Testbed.Processes;

namespace Testbed.Bench.Measurement;

/// <summary>
/// Runs an outside tool a bench compares with (openssl, python3) to its end through the one process launcher and hands
/// back what it printed; a tool that cannot start or outlives its time gives null (the bench then says the anchor is
/// missing), and a timed-out tool is killed with everything it started.
/// </summary>
public static class ToolRun
{
    /// <summary>What a finished tool printed and its exit code.</summary>
    public sealed record Output(int ExitCode, string Stdout, string Stderr);

    public static async Task<Output?> RunAsync(string path, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var result = await ChildProcess.RunAsync(path, arguments, timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new Output(result.ExitCode, result.StandardOutput, result.StandardError);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>The standard output of a run that ended with exit code 0, else null.</summary>
    public static async Task<string?> StdoutAsync(string path, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
        await RunAsync(path, arguments, timeout, cancellationToken).ConfigureAwait(false) is { ExitCode: 0 } output ? output.Stdout : null;
}
