using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Testbed.Processes;

/// <summary>A child process a test or a bench starts: bounded output, timed waits, and its whole tree killed on dispose.</summary>
/// <remarks>
/// Both streams are read as they come (a child never blocks on a full pipe); each keeps its newest characters as text and
/// the newest lines of both are kept interleaved, for results and failure messages. Standard input stays an open pipe
/// until <see cref="CloseInput"/> or dispose, so a child that watches it (the dashboard's watchdog) sees this process go.
/// Dispose kills the process with its whole tree whatever happened before, so a failing test leaves nothing running.
/// Linked as source (src/Shared/Processes) into the CLI's benches and into each test project that runs programs.
/// </remarks>
internal sealed class ChildProcess : IDisposable, IAsyncDisposable
{
    private const int MaxLineChars = 64 * 1024;
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DrainWait = TimeSpan.FromSeconds(5);
    private readonly Process _process;
    private readonly ChildProcessOptions _options;
    private readonly Lock _gate = new();
    private readonly Queue<string> _lines = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<string> _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Task _readers = Task.CompletedTask;
    private TimeSpan? _ranFor;

    private ChildProcess(Process process, ChildProcessOptions options, string command)
    {
        _process = process;
        _options = options;
        Command = command;
    }

    /// <summary>The program and its arguments (long ones cut), for messages.</summary>
    public string Command { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once ended.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>The first line it printed on either stream (helper scripts print their port there).</summary>
    public Task<string> FirstLine => _firstLine.Task;

    /// <summary>The newest lines it printed, both streams interleaved.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>The newest 200 lines, for failure messages.</summary>
    public string Output => Tail(200);

    /// <summary>Standard output so far (its newest characters, at most <see cref="ChildProcessOptions.KeptChars"/>).</summary>
    public string StandardOutput => Kept(_stdout);

    /// <summary>Standard error so far (its newest characters, at most <see cref="ChildProcessOptions.KeptChars"/>).</summary>
    public string StandardError => Kept(_stderr);

    /// <summary>Starts <paramref name="fileName"/> (a path, or a name looked up on PATH); an error names it if it cannot start.</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, ChildProcessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        options ??= new ChildProcessOptions();
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

        if (options.WorkingDirectory is { } directory)
        {
            info.WorkingDirectory = directory;
        }

        foreach (var (name, value) in options.Environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var command = string.Join(' ', info.ArgumentList.Prepend(fileName).Select(a => a.Length > 80 ? a[..80] + "..." : a));
        var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException($"{fileName} could not be started: {e.Message}", e);
        }

        var child = new ChildProcess(process, options, command);
        child._readers = Task.WhenAll(
            child.ReadAsync(process.StandardOutput, child._stdout, options.OnOutputLine),
            child.ReadAsync(process.StandardError, child._stderr, options.OnErrorLine));
        return child;
    }

    /// <summary>
    /// Runs a program to its end: writes <paramref name="input"/> (if any) and closes standard input, waits at most
    /// <paramref name="timeout"/> (a <see cref="TimeoutException"/> with its last lines past that) and returns what it did,
    /// whatever its exit code (<see cref="ChildProcessResult.EnsureSuccess"/> turns a failure into an error). Cancelled or
    /// timed out, it is killed with its tree.
    /// </summary>
    public static async Task<ChildProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        ChildProcessOptions? options = null,
        ReadOnlyMemory<byte> input = default,
        CancellationToken cancellationToken = default)
    {
        var child = Start(fileName, arguments, options);
        await using var disposal = child.ConfigureAwait(false);
        await child.WriteInputAsync(input, cancellationToken).ConfigureAwait(false);
        child.CloseInput();
        if (!await child.WaitForExitAsync(timeout, cancellationToken).ConfigureAwait(false))
        {
            throw new TimeoutException($"{child.Command} did not finish within {timeout.TotalSeconds:0.#} s; its last lines:\n{child.Output}");
        }

        return child.Result();
    }

    /// <summary>The newest <paramref name="count"/> lines of <paramref name="text"/>.</summary>
    public static string LastLines(string text, int count)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.TrimEnd('\n', '\r').Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - count)));
    }

    /// <summary>The newest <paramref name="count"/> lines it printed, both streams interleaved.</summary>
    public string Tail(int count)
    {
        lock (_gate)
        {
            return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - count)));
        }
    }

    /// <summary>What it did, once it has ended and its output is read (after a wait for exit).</summary>
    public ChildProcessResult Result() =>
        new(Command, _process.ExitCode, StandardOutput, StandardError, _ranFor ?? _clock.Elapsed);

    /// <summary>Writes to its standard input; a child that stopped reading (closed its end) is not an error.</summary>
    public async Task WriteInputAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        try
        {
            await _process.StandardInput.BaseStream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            await _process.StandardInput.BaseStream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // It stopped reading (refused the input, or ended): what it did is in its exit code and output.
        }
    }

    /// <summary>Closes its standard input (end of file for a child that reads it).</summary>
    public void CloseInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Its end is already closed.
        }
    }

    /// <summary>Waits until it has ended and both streams are read to their end.</summary>
    public async Task WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        _ranFor ??= _clock.Elapsed;
        await _readers.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits at most <paramref name="timeout"/> for it to end; false on timeout (it is left running: dispose kills it).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await WaitForExitAsync(limit.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Sends a POSIX signal by name ("INT", "TERM", "STOP", "CONT"); false when `kill` could not deliver it.</summary>
    public bool Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("kill could not be started");
        kill.WaitForExit();
        return kill.ExitCode == 0;
    }

    /// <summary>Kills it with its whole tree (SIGKILL: no chance to clean up) and waits up to 10 s for it to end.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(KillWait);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (Win32Exception)
        {
            // It ended between the check and the kill.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Kill();
        try
        {
            _readers.Wait(DrainWait);
        }
        catch (AggregateException)
        {
            // A line callback failed; the test saw it through its own wait, if it waited.
        }

        _process.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _readers.WaitAsync(DrainWait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A grandchild that left the tree still holds the pipe: stop waiting for it.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A line callback failed; the test saw it through its own wait, if it waited.
        }

        _process.Dispose();
    }

    private string Kept(StringBuilder text)
    {
        lock (_gate)
        {
            var start = Math.Max(0, text.Length - _options.KeptChars);
            return text.ToString(start, text.Length - start);
        }
    }

    private async Task ReadAsync(StreamReader reader, StringBuilder text, Action<string>? onLine)
    {
        var buffer = new char[4096];
        var line = new StringBuilder();
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lock (_gate)
                {
                    text.Append(buffer, 0, read);
                    if (text.Length > 2 * _options.KeptChars)
                    {
                        text.Remove(0, text.Length - _options.KeptChars);
                    }
                }

                for (var i = 0; i < read; i++)
                {
                    if (buffer[i] == '\n' || line.Length >= MaxLineChars)
                    {
                        Emit(line, onLine);
                    }

                    if (buffer[i] != '\n')
                    {
                        line.Append(buffer[i]);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The pipe broke or the process was disposed: what was read is kept.
        }

        if (line.Length > 0)
        {
            Emit(line, onLine);
        }
    }

    private void Emit(StringBuilder line, Action<string>? onLine)
    {
        var text = line.Length > 0 && line[^1] == '\r' ? line.ToString(0, line.Length - 1) : line.ToString();
        line.Clear();
        lock (_gate)
        {
            _lines.Enqueue(text);
            while (_lines.Count > _options.KeptLines)
            {
                _lines.Dequeue();
            }
        }

        _firstLine.TrySetResult(text);
        onLine?.Invoke(text);
    }
}
