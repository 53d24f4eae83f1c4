namespace Testbed.AppHost.Orchestration;

/// <summary>Finds the <c>dotnet</c> executable children run on, and the optional <c>setsid</c> wrapper.</summary>
internal static class DotnetHost
{
    /// <summary>The dotnet muxer running this process, else DOTNET_HOST_PATH (set by the SDK), else dotnet from PATH.</summary>
    public static string Path { get; } = Resolve();

    /// <summary>
    /// util-linux setsid, when present. Run without --fork from a process that is not a group leader, it calls setsid(2)
    /// and execs in place, so the child keeps its pid and stays our direct child; being in its own session, it no longer
    /// gets the terminal's SIGINT on Ctrl+C, so the AppHost alone decides the order in which resources stop.
    /// </summary>
    public static string? SetSid { get; } = File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : null;

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
