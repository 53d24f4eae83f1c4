using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Testbed.Chaos.Execution;

namespace Testbed.AppHost.Control;

/// <summary>
/// Process control of the testbed's resources inside the AppHost: Aspire's own start, stop and restart through
/// <see cref="ResourceCommandService"/>, and what Aspire lacks (kill -9, pause, resume) as signals to the process tree of
/// the PID in the resource's snapshot. Pause and resume publish a Paused state so the dashboard shows them.
/// </summary>
public sealed class ResourceControl
{
    /// <summary>The state a paused resource shows.</summary>
    public const string PausedState = "Paused";

    /// <summary>Every command this control runs, in the order a user reads them.</summary>
    public static readonly IReadOnlyList<string> Commands = ["start", "stop", "restart", "kill", "pause", "resume"];

    /// <summary>How long a stop may go on after Aspire's own stop command gave up waiting for it.</summary>
    private static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(45);

    /// <summary>How long every thread of a resource's processes may take to obey SIGSTOP.</summary>
    private static readonly TimeSpan SigStopPatience = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, CustomResourceSnapshot> _snapshots = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _paused = new(StringComparer.Ordinal);
    private IServiceProvider? _services;

    /// <summary>Starts following resource snapshots; called once the app's services exist (BeforeStartEvent).</summary>
    public void Attach(IServiceProvider services, CancellationToken stopping)
    {
        _services = services;
        var notifications = services.GetRequiredService<ResourceNotificationService>();
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var update in notifications.WatchAsync(stopping).ConfigureAwait(false))
                {
                    _snapshots[update.Resource.Name] = update.Snapshot;
                }
            }
            catch (OperationCanceledException)
            {
                // The app is stopping.
            }
        }, CancellationToken.None);
    }

    /// <summary>Every resource as the chaos controller sees it (state, health, pause, endpoint URLs by endpoint name).</summary>
    public IReadOnlyList<ResourceView> Resources() =>
        [.. _snapshots.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => View(p.Key, p.Value))];

    /// <summary>The view of one resource, or null when it is not known (yet).</summary>
    public ResourceView? Resource(string name) => _snapshots.TryGetValue(name, out var snapshot) ? View(name, snapshot) : null;

    /// <summary>Runs <paramref name="command"/> (one of <see cref="Commands"/>) on <paramref name="name"/>; the result says why it failed.</summary>
    public async Task<ExecuteCommandResult> ExecuteAsync(string name, string command, CancellationToken cancellationToken)
    {
        var services = _services ?? throw new InvalidOperationException("the app has not started yet");
        var model = services.GetRequiredService<DistributedApplicationModel>();
        if (model.Resources.FirstOrDefault(r => r.Name == name) is not { } resource)
        {
            return CommandResults.Failure($"no resource named '{name}'; known: {string.Join(", ", model.Resources.Select(r => r.Name))}");
        }

        switch (command)
        {
            case "start":
                _paused.TryRemove(name, out _);
                return await AspireCommandAsync(services, resource, KnownResourceCommands.StartCommand, cancellationToken).ConfigureAwait(false);
            case "stop":
                _paused.TryRemove(name, out _);
                var stopped = await AspireCommandAsync(services, resource, KnownResourceCommands.StopCommand, cancellationToken).ConfigureAwait(false);
                // Aspire's stop gives up waiting after about 15 s while DCP goes on stopping the process (`dotnet run`
                // forwards SIGTERM and waits for the service's graceful shutdown, which a loaded machine slows down).
                return !stopped.Success && await EndsWithinAsync(name, StopPatience, cancellationToken).ConfigureAwait(false) ? CommandResults.Success() : stopped;
            case "restart":
                // Stop, then start, rather than Aspire's restart, so a slow stop gets the same patience as above.
                var first = await ExecuteAsync(name, "stop", cancellationToken).ConfigureAwait(false);
                return first.Success ? await ExecuteAsync(name, "start", cancellationToken).ConfigureAwait(false) : first;
            case "kill":
                return await SignalAsync(resource, ProcessTree.SigKill, paused: false, cancellationToken).ConfigureAwait(false);
            case "pause":
                var paused = await SignalAsync(resource, ProcessTree.SigStop, paused: true, cancellationToken).ConfigureAwait(false);
                await PublishPauseAsync(services, resource, paused: true).ConfigureAwait(false);
                return paused;
            case "resume":
                var resumed = await SignalAsync(resource, ProcessTree.SigCont, paused: false, cancellationToken).ConfigureAwait(false);
                await PublishPauseAsync(services, resource, paused: false).ConfigureAwait(false);
                return resumed;
            default:
                return CommandResults.Failure($"unknown command '{command}'; known: {string.Join(", ", Commands)}");
        }
    }

    private static Task<ExecuteCommandResult> AspireCommandAsync(IServiceProvider services, IResource resource, string command, CancellationToken cancellationToken) =>
        services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(resource, command, cancellationToken);

    /// <summary>Whether <paramref name="name"/> reaches a terminal state within <paramref name="patience"/>.</summary>
    private async Task<bool> EndsWithinAsync(string name, TimeSpan patience, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline)
        {
            if (Resource(name)?.State is { } state && (state == KnownResourceStates.Exited || state == KnownResourceStates.Finished))
            {
                return true;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }

        return false;
    }

    private async Task<ExecuteCommandResult> SignalAsync(IResource resource, int signal, bool paused, CancellationToken cancellationToken)
    {
        if (!_snapshots.TryGetValue(resource.Name, out var snapshot) || Pid(snapshot) is not { } pid)
        {
            return CommandResults.Failure($"{resource.Name} has no running process");
        }

        if (ProcessTree.Signal(pid, signal) == 0)
        {
            return CommandResults.Failure($"{resource.Name}'s process {pid} is gone");
        }

        // SIGSTOP is delivered, not yet obeyed: a running thread stops when it next enters the kernel, which a loaded machine
        // delays. Paused is reported only once every thread of the tree has stopped.
        if (signal == ProcessTree.SigStop && !await ProcessTree.WaitUntilStoppedAsync(pid, SigStopPatience, cancellationToken).ConfigureAwait(false))
        {
            return CommandResults.Failure($"{resource.Name}'s process {pid} did not stop within {SigStopPatience.TotalSeconds:0} s of SIGSTOP");
        }

        if (paused)
        {
            _paused[resource.Name] = true;
        }
        else
        {
            _paused.TryRemove(resource.Name, out _);
        }

        return CommandResults.Success();
    }

    private static async Task PublishPauseAsync(IServiceProvider services, IResource resource, bool paused)
    {
        // DCP does not notice SIGSTOP; without this the dashboard would keep showing Running.
        var notifications = services.GetRequiredService<ResourceNotificationService>();
        await notifications.PublishUpdateAsync(resource, s => s with
        {
            State = paused
                ? new ResourceStateSnapshot(PausedState, KnownResourceStateStyles.Warn)
                : new ResourceStateSnapshot(KnownResourceStates.Running, KnownResourceStateStyles.Success),
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The process id DCP started for the resource of <paramref name="snapshot"/> (<c>dotnet run</c>), from the snapshot's
    /// <c>executable.pid</c> property, or null.
    /// </summary>
    public static int? Pid(CustomResourceSnapshot snapshot) =>
        snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value switch
        {
            int pid => pid,
            long pid => (int)pid,
            string text when int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var pid) => pid,
            _ => null,
        };

    private ResourceView View(string name, CustomResourceSnapshot snapshot)
    {
        var paused = _paused.ContainsKey(name);
        var state = snapshot.State?.Text ?? KnownResourceStates.NotStarted;
        if (state == PausedState)
        {
            state = KnownResourceStates.Running;
        }

        var urls = snapshot.Urls.Where(u => !u.IsInternal && u.Name is not null)
            .GroupBy(u => u.Name!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Url, StringComparer.Ordinal);
        var health = snapshot.HealthStatus?.ToString() ?? "Unknown";
        return new ResourceView(name, name, state, health, paused, urls);
    }
}
