using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Ends this service when the AppHost that launched it dies, however it dies, so no service outlives it.
/// The AppHost passes its pid in TESTBED_PARENT_PID; without that variable (a service run by hand) this does nothing.
/// </summary>
/// <remarks>
/// Why watch the parent pid rather than wait for EOF on stdin: a SIGKILLed AppHost runs no code, so the child must notice on
/// its own. Both work for that, but stdin EOF only arrives when every copy of the pipe's write end is closed; any process
/// that inherited it (a grandchild, a debugger, a shell wrapper) keeps the child alive, and a service that reads stdin for
/// another reason would swallow the signal. Re-parenting, by contrast, is done by the kernel the moment the parent dies,
/// cannot be held off by anyone, and is not fooled by pid reuse: once re-parented to init or a subreaper, getppid() never
/// again returns the AppHost's pid. Polling four times a second costs one small /proc read.
/// When the service is not the AppHost's direct child (started through a wrapper), it falls back to checking that the
/// pid still exists, where pid reuse is possible but needs the pid to be recycled within one poll interval.
/// </remarks>
internal sealed class ParentProcessWatch(IConfiguration configuration, IHostApplicationLifetime lifetime, ILogger<ParentProcessWatch> logger)
    : BackgroundService
{
    /// <summary>The variable the AppHost sets to its own pid.</summary>
    public const string ParentPidVariable = "TESTBED_PARENT_PID";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>A graceful stop that hangs longer than this ends in a SIGKILL of this process.</summary>
    private static readonly TimeSpan GracefulStopLimit = TimeSpan.FromSeconds(3);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!int.TryParse(configuration[ParentPidVariable], NumberStyles.None, CultureInfo.InvariantCulture, out var parentPid) || parentPid <= 1)
        {
            return;
        }

        var directChild = ReadParentPid() == parentPid;
        using var timer = new PeriodicTimer(PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var alive = directChild ? ReadParentPid() == parentPid : ProcessExists(parentPid);
                if (!alive)
                {
                    logger.LogWarning("The AppHost (pid {ParentPid}) is gone; stopping this service.", parentPid);
                    _ = ForceExitAfterLimitAsync();
                    lifetime.StopApplication();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The host is stopping for another reason (the AppHost asked). That stop can hang (an exporter flushing to a
            // dashboard that is already gone waits out its timeout), so the watch goes on until this process ends: once the
            // AppHost is gone, the stop gets the same limit as above.
            _ = Task.Run(() => GuardShutdownAsync(parentPid, directChild), CancellationToken.None);
        }
    }

    private static async Task GuardShutdownAsync(int parentPid, bool directChild)
    {
        using var timer = new PeriodicTimer(PollInterval);
        while (await timer.WaitForNextTickAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (!(directChild ? ReadParentPid() == parentPid : ProcessExists(parentPid)))
            {
                await ForceExitAfterLimitAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    private static async Task ForceExitAfterLimitAsync()
    {
        await Task.Delay(GracefulStopLimit).ConfigureAwait(false);
        // Shutdown hung (a stuck hosted service): an orphan must not survive, so end the process the certain way.
        using var self = Process.GetCurrentProcess();
        self.Kill();
    }

    /// <summary>The parent pid from /proc/self/stat (Linux); null elsewhere, where the existence check is used.</summary>
    private static int? ReadParentPid()
    {
        try
        {
            // Format: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so parse after the last ')'.
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ', 3);
            return int.Parse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static bool ProcessExists(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
