namespace Testbed.AppHost.Orchestration;

/// <summary>Names of the commands a resource accepts (control API: POST /api/resources/{name}/commands/{command}).</summary>
public static class ResourceCommands
{
    /// <summary>Launch the process (from NotStarted, Exited or FailedToStart).</summary>
    public const string Start = "start";

    /// <summary>SIGTERM, then SIGKILL of the process tree after the stop timeout.</summary>
    public const string Stop = "stop";

    /// <summary>Stop, then start again on the same ports.</summary>
    public const string Restart = "restart";

    /// <summary>SIGKILL of the process tree: a crash, as the chaos controller wants it.</summary>
    public const string Kill = "kill";

    /// <summary>SIGSTOP: the process freezes and stops answering (it turns RuntimeUnhealthy).</summary>
    public const string Pause = "pause";

    /// <summary>SIGCONT of a paused process.</summary>
    public const string Resume = "resume";

    /// <summary>Every command, in the order the API lists them.</summary>
    public static IReadOnlyList<string> All { get; } = [Start, Stop, Restart, Kill, Pause, Resume];
}
