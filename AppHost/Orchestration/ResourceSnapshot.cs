namespace Testbed.AppHost.Orchestration;

/// <summary>One resource process as the control API reports it.</summary>
/// <param name="Name">Process name (<c>peer-2</c>), unique in the app.</param>
/// <param name="ResourceName">App-model resource it belongs to (<c>peer</c>); equals <paramref name="Name"/> without replicas.</param>
/// <param name="Replica">1-based replica index (1 without replicas).</param>
/// <param name="Type">Resource kind; "Project" for .NET projects.</param>
/// <param name="State">Lifecycle state.</param>
/// <param name="Health">Health check result.</param>
/// <param name="Paused">True between pause (SIGSTOP) and resume (SIGCONT).</param>
/// <param name="Pid">Process id while a process exists.</param>
/// <param name="ExitCode">Exit code of the last process (137 after SIGKILL).</param>
/// <param name="Restarts">Launches after the first one.</param>
/// <param name="StartedAt">When the current or last process was launched.</param>
/// <param name="StoppedAt">When the last process ended.</param>
/// <param name="Urls">Endpoint name to URL (<c>http://127.0.0.1:PORT</c>, <c>udp://127.0.0.1:PORT</c>).</param>
/// <param name="WaitFor">Resource names this one waits for.</param>
/// <param name="Message">Why the last failure happened, when one did.</param>
/// <param name="Commands">Commands accepted in the current state.</param>
public sealed record ResourceSnapshot(
    string Name,
    string ResourceName,
    int Replica,
    string Type,
    ResourceState State,
    HealthStatus Health,
    bool Paused,
    int? Pid,
    int? ExitCode,
    int Restarts,
    DateTimeOffset? StartedAt,
    DateTimeOffset? StoppedAt,
    IReadOnlyDictionary<string, string> Urls,
    IReadOnlyList<string> WaitFor,
    string? Message,
    IReadOnlyList<string> Commands);
