using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;

namespace Testbed.TestSupport;

/// <summary>
/// A real client process (libtorrent, aria2c, transmission-cli, a Python script) started by an interop test: its output
/// lines are collected (the newest 2,000) and it is killed with its whole tree on dispose, even when the test fails.
/// Linked into each test project that drives other programs.
/// </summary>
internal sealed class ExternalProcess : IDisposable
{
    private const int KeptLines = 2000;
    private readonly Process process;
    private readonly ConcurrentQueue<string> lines = new();
    private readonly TaskCompletionSource<string> firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ExternalProcess(Process process) => this.process = process;

    /// <summary>The output lines so far (standard output and error interleaved).</summary>
    public IReadOnlyList<string> Lines => [.. lines];

    /// <summary>The newest 200 output lines, for failure messages.</summary>
    public string Output => string.Join('\n', lines.TakeLast(200));

    /// <summary>The first line the process printed (the helper scripts print their port there).</summary>
    public Task<string> FirstLine => firstLine.Task;

    /// <summary>The process id.</summary>
    public int Pid => process.Id;

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => process.HasExited;

    /// <summary>The exit code, once ended.</summary>
    public int ExitCode => process.ExitCode;

    /// <summary>
    /// Starts <paramref name="fileName"/> (a path, or a name looked up on PATH). With a working directory, HOME points
    /// there too, so clients keep their configuration out of the real home; <paramref name="environment"/> overrides.
    /// </summary>
    public static ExternalProcess Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
            info.Environment["HOME"] = workingDirectory;
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info };
        var wrapper = new ExternalProcess(process);
        process.OutputDataReceived += (_, e) => wrapper.Add(e.Data);
        process.ErrorDataReceived += (_, e) => wrapper.Add(e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException($"{fileName} could not be started ({e.Message}); test.sh installs transmission-cli, aria2, python3-libtorrent and opentracker", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Runs a process to completion (at most 2 minutes) and returns its output; throws on a non-zero exit.</summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory)
    {
        using var run = Start(fileName, arguments, workingDirectory);
        if (!await run.WaitForExitAsync(TimeSpan.FromMinutes(2)))
        {
            throw new TimeoutException($"{fileName} did not finish within 2 minutes: {run.Output}");
        }

        return run.ExitCode == 0 ? string.Join('\n', run.lines) : throw new InvalidOperationException($"{fileName} exited {run.ExitCode}: {run.Output}");
    }

    /// <summary>Waits for exit; false on timeout (the process is killed by Dispose).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        firstLine.TrySetResult(line);
        lines.Enqueue(line);
        while (lines.Count > KeptLines && lines.TryDequeue(out _))
        {
        }
    }
}
