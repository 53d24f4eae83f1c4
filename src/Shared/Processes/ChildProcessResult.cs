namespace Testbed.Processes;

/// <summary>What a finished <see cref="ChildProcess"/> did: its exit code and the (newest, bounded) text of each stream.</summary>
internal sealed record ChildProcessResult(string Command, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    /// <summary>This result when the exit code is 0; otherwise an error naming the command, its code and its last stderr lines.</summary>
    public ChildProcessResult EnsureSuccess() =>
        ExitCode == 0 ? this : throw new InvalidOperationException($"{Command} exited with code {ExitCode}: {ChildProcess.LastLines(StandardError, 40)}");
}
