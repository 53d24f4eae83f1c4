using System.Collections.Concurrent;
using System.Diagnostics;

namespace Testbed.Tracker.Tests.Interop;

/// <summary>A real client process whose output lines are collected; killed with its whole tree on dispose.</summary>
internal sealed class ExternalProcess : IDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> lines = new();

    private ExternalProcess(Process process) => this.process = process;

    public IEnumerable<string> Lines => lines;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public static ExternalProcess Start(string fileName, string workingDirectory, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["HOME"] = workingDirectory;
        var process = new Process { StartInfo = info };
        var wrapper = new ExternalProcess(process);
        process.OutputDataReceived += (_, e) => wrapper.Add(e.Data);
        process.ErrorDataReceived += (_, e) => wrapper.Add(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {fileName}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Runs a process to completion and returns its output; throws on a non-zero exit.</summary>
    public static async Task<string> RunAsync(string fileName, string workingDirectory, params string[] arguments)
    {
        using var run = Start(fileName, workingDirectory, arguments);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await run.process.WaitForExitAsync(timeout.Token);
        var output = string.Join('\n', run.lines);
        if (run.process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} exited {run.process.ExitCode}: {output}");
        }

        return output;
    }

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

    public string Output() => string.Join('\n', lines.TakeLast(40));

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
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
        if (line is not null)
        {
            lines.Enqueue(line);
            while (lines.Count > 2000 && lines.TryDequeue(out _))
            {
            }
        }
    }
}
