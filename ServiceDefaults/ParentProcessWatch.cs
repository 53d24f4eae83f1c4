using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Ends this service when the AppHost that launched it dies, however it dies and whatever the service is doing (starting,
/// running or stopping), so no service outlives it. The AppHost passes its pid in TESTBED_PARENT_PID; without that
/// variable (a service run by hand) this does nothing.
/// </summary>
/// <remarks>
/// Why watch the parent pid rather than wait for EOF on stdin: a SIGKILLed AppHost runs no code, so the child must notice on
/// its own. Both work for that, but stdin EOF only arrives when every copy of the pipe's write end is closed; any process
/// that inherited it (a grandchild, a debugger, a shell wrapper) keeps the child alive, and a service that reads stdin for
/// another reason would swallow the signal. Re-parenting, by contrast, is done by the kernel the moment the parent dies,
/// cannot be held off by anyone, and is not fooled by pid reuse: once re-parented to init or a subreaper, getppid() never
/// again returns the AppHost's pid. When the service is not the AppHost's direct child (DCP starts it through `dotnet run`),
/// it checks that the pid still exists instead, where pid reuse needs the pid recycled within one poll interval.
/// The watch starts in <c>AddServiceDefaults</c>, on a thread of its own, not as a hosted service: a service still starting
/// when the AppHost dies (its hosted services not yet started, or its start cancelled) must end too, and a stop that hangs
/// (an exporter flushing to the dashboard, which died with the AppHost, waits out its timeout) must not keep it alive.
/// </remarks>
internal sealed partial class ParentProcessWatch(IHostApplicationLifetime lifetime, ILogger<ParentProcessWatch> logger) : IHostedService
{
    /// <summary>The variable the AppHost sets to its own pid.</summary>
    public const string ParentPidVariable = "TESTBED_PARENT_PID";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a service whose AppHost is gone may take to stop gracefully before it ends itself with SIGKILL.</summary>
    private static readonly TimeSpan GracefulStopLimit = TimeSpan.FromSeconds(1);

    private static readonly TaskCompletionSource<int> ParentGone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static int _watching;

    /// <summary>
    /// Starts watching the AppHost named by <see cref="ParentPidVariable"/> for the rest of this process's life (the first
    /// call does; later ones, from other hosts in the same process, share it).
    /// </summary>
    public static void Start(IConfiguration configuration)
    {
        if (!int.TryParse(configuration[ParentPidVariable], NumberStyles.None, CultureInfo.InvariantCulture, out var parentPid) || parentPid <= 1 ||
            Interlocked.Exchange(ref _watching, 1) == 1)
        {
            return;
        }

        var directChild = ReadParentPid() == parentPid;
        new Thread(() => Watch(parentPid, directChild)) { IsBackground = true, Name = "AppHost watch" }.Start();
    }

    /// <summary>Asks the host to stop once the AppHost is gone (at once if it already is).</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        ParentGone.Task.ContinueWith(
            gone =>
            {
                LogAppHostGone(logger, gone.Result);
                lifetime.StopApplication();
            },
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void Watch(int parentPid, bool directChild)
    {
        while (directChild ? ReadParentPid() == parentPid : ProcessExists(parentPid))
        {
            Thread.Sleep(PollInterval);
        }

        ParentGone.TrySetResult(parentPid);
        Thread.Sleep(GracefulStopLimit);
        // Still here: the stop hangs, or the host never started. An orphan must not survive, so end the certain way.
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "The AppHost (pid {ParentPid}) is gone; stopping this service.")]
    private static partial void LogAppHostGone(ILogger logger, int parentPid);
}
