using System.Diagnostics;
using Testbed.Processes;
using Xunit.Sdk;

namespace Testbed.Cli.Tests.BadInput;

/// <summary>
/// Runs the real <c>testbed</c> CLI (testbed.dll next to the tests) as a child process and watches its peak resident set
/// (VmHWM in /proc/PID/status, sampled every few milliseconds until it exits) for the cases that are about size.
/// </summary>
internal static class CliProcess
{
    /// <summary>What one run did: exit code, output, peak resident bytes (null without /proc) and wall time.</summary>
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr, long? PeakBytes, TimeSpan Elapsed)
    {
        /// <summary>The run as text, for failure messages.</summary>
        public override string ToString() =>
            $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0} s, peak {PeakBytes / (1024 * 1024)} MiB\nstdout: {BadInputs.Visible(Cut(Stdout))}\nstderr: {BadInputs.Visible(Cut(Stderr))}";

        private static string Cut(string text) => text.Length > 2000 ? text[..2000] + "..." : text;
    }

    /// <summary>The baseline most commands stay under: a .NET process with the CLI loaded is about 60 to 90 MiB.</summary>
    public const long ModestPeakBytes = 200L * 1024 * 1024;

    /// <summary>Runs <c>testbed ARGS</c> with an optional working directory and standard input; kills it after <paramref name="timeout"/>.</summary>
    public static async Task<Outcome> RunAsync(string[] args, string? workingDirectory = null, TimeSpan? timeout = null, byte[]? stdin = null)
    {
        var limit = timeout ?? TimeSpan.FromMinutes(2);
        var options = new ChildProcessOptions
        {
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
            Environment = new Dictionary<string, string?> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["TESTBED_DEBUG"] = null },
        };
        await using var process = ChildProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "testbed.dll"), .. args], options);
        await process.WriteInputAsync(stdin);
        process.CloseInput();
        long? peak = null;
        using var deadline = new CancellationTokenSource(limit);
        var exited = process.WaitForExitAsync(deadline.Token);
        try
        {
            while (!exited.IsCompleted)
            {
                if (BadInputs.PeakResidentBytes(process.Id) is { } now)
                {
                    peak = Math.Max(peak ?? 0, now);
                }

                await Task.WhenAny(exited, Task.Delay(5));
            }

            await exited;
        }
        catch (OperationCanceledException)
        {
            throw new XunitException($"{Describe(args)} did not finish within {limit.TotalSeconds} s:\n{BadInputs.Visible(process.StandardError)}");
        }

        var result = process.Result();
        return new Outcome(result.ExitCode, result.StandardOutput, result.StandardError, peak, result.Elapsed);
    }

    /// <summary>Runs and asserts exit code <paramref name="exitCode"/> with one error line mentioning every fragment.</summary>
    public static async Task<Outcome> FailsAsync(int exitCode, string[] args, params string[] mentions)
    {
        var outcome = await RunAsync(args);
        AssertFails(outcome, exitCode, Describe(args), mentions);
        return outcome;
    }

    private static string Describe(string[] args) => $"testbed {string.Join(' ', args.Select(a => a.Length > 80 ? a[..80] + "..." : a))}";

    /// <summary>Asserts a failed run: the exit code, one error line mentioning every fragment, no stack trace anywhere.</summary>
    public static void AssertFails(Outcome outcome, int exitCode, string context, params string[] mentions)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.ExitCode != exitCode)
        {
            throw new XunitException($"{context}: expected exit {exitCode}, got {outcome}");
        }

        BadInputs.AssertNoStackTrace(outcome.Stdout, context);
        BadInputs.AssertOneLineError(outcome.Stderr, context, mentions);
    }

    /// <summary>Asserts the run's peak resident set stayed under <paramref name="bytes"/> (where /proc exists).</summary>
    public static void AssertPeakBelow(Outcome outcome, long bytes, string context)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.PeakBytes is { } peak && peak >= bytes)
        {
            throw new XunitException($"{context}: peak resident set {peak / (1024 * 1024)} MiB, expected below {bytes / (1024 * 1024)} MiB: {outcome}");
        }
    }
}

/// <summary>A temporary directory for one test, removed afterwards (made writable again first).</summary>
internal sealed class BadInputDir : IDisposable
{
    public BadInputDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cli-badinput-" + Guid.NewGuid().ToString("N")[..12]);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="bytes"/> to a file here.</summary>
    public string Write(string name, byte[] bytes)
    {
        var path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A file of <paramref name="length"/> bytes that costs no disk (sparse).</summary>
    public string Sparse(string name, long length)
    {
        var path = File(name);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        stream.SetLength(length);
        return path;
    }

    /// <summary>A FIFO here (null where mkfifo is missing).</summary>
    public string? Fifo(string name)
    {
        var path = File(name);
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        return mkfifo.ExitCode == 0 ? path : null;
    }

    /// <summary>A directory this user cannot write into: a 0555 one, or (for root, who writes anywhere) /sys; null if none.</summary>
    public string? Unwritable()
    {
        var candidates = new List<string>();
        if (!OperatingSystem.IsWindows())
        {
            var locked = File("locked");
            Directory.CreateDirectory(locked);
            System.IO.File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            candidates.Add(locked);
        }

        candidates.Add("/sys");
        foreach (var candidate in candidates.Where(Directory.Exists))
        {
            try
            {
                using (new FileStream(System.IO.Path.Combine(candidate, ".probe-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
                {
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return candidate;
            }
        }

        return null;
    }

    public void Dispose()
    {
        try
        {
            foreach (var dir in Directory.EnumerateDirectories(Path, "*", SearchOption.AllDirectories))
            {
                if (!OperatingSystem.IsWindows())
                {
                    System.IO.File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }

            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
