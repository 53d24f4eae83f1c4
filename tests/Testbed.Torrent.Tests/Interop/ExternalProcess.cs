using System.Diagnostics;
using System.Text;

namespace Testbed.Torrent.Tests.Interop;

/// <summary>A child process (another BitTorrent client) whose output is collected and which is always killed at the end.</summary>
internal sealed class ExternalProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly TaskCompletionSource<string> firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ExternalProcess(string fileName, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        if (!File.Exists(fileName))
        {
            throw new InvalidOperationException($"{fileName} is not installed (test.sh installs transmission-cli, aria2 and python3-libtorrent)");
        }

        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>The first line the process printed (the scripts print their port there).</summary>
    public Task<string> FirstLine => firstLine.Task;

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        firstLine.TrySetResult(line);
        lock (output)
        {
            output.AppendLine(line);
        }
    }

    /// <summary>Waits for exit; false on timeout (the process is killed by Dispose).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

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
        }

        process.Dispose();
    }
}
