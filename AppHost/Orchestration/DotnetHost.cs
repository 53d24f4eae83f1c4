namespace Testbed.AppHost.Orchestration;

/// <summary>Finds the <c>dotnet</c> executable children run on, and the wrapper that puts each child in its own process group.</summary>
internal static class DotnetHost
{
    /// <summary>
    /// perl (Essential in Debian) runs setpgid(0, 0) and execs in place, so the child keeps its pid and stays our direct
    /// child, in a process group of its own within our session. That buys two things:
    /// 1. Ctrl+C in a terminal sends SIGINT to the foreground group only, so the AppHost alone decides the stop order.
    /// 2. When the AppHost dies (even by SIGKILL), the child's group becomes orphaned, and the kernel sends SIGHUP and SIGCONT
    ///    to it if a member is stopped: a paused (SIGSTOP) child wakes up and dies instead of lingering forever.
    /// util-linux setsid would give 1 but not 2 (a group in another session counts as orphaned from the start).
    /// </summary>
    private const string NewProcessGroupScript = "setpgrp(0, 0) or die \"setpgrp: $!\\n\"; exec { $ARGV[0] } @ARGV or die \"exec $ARGV[0]: $!\\n\";";

    /// <summary>The dotnet muxer running this process, else DOTNET_HOST_PATH (set by the SDK), else dotnet from PATH.</summary>
    public static string Path { get; } = Resolve();

    /// <summary>The program and leading arguments that launch <c>dotnet</c> in a new process group (direct when no perl).</summary>
    public static IReadOnlyList<string> LaunchPrefix { get; } = File.Exists("/usr/bin/perl")
        ? ["/usr/bin/perl", "-e", NewProcessGroupScript, Path]
        : File.Exists("/usr/bin/setsid") ? ["/usr/bin/setsid", Path] : [Path];

    private static string Resolve()
    {
        var self = Environment.ProcessPath;
        if (self is not null && System.IO.Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(hostPath) && File.Exists(hostPath) ? hostPath : "dotnet";
    }
}
