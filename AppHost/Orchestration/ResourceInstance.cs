using System.Diagnostics;
using Testbed.AppHost.AppModel;

namespace Testbed.AppHost.Orchestration;

/// <summary>One process of a resource: launches it, probes its health, runs its commands and keeps its console output.</summary>
public sealed class ResourceInstance
{
    private readonly DistributedApplication _app;
    private readonly SemaphoreSlim _commandGate = new(1, 1);
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = NewSignal();
    private Process? _process;
    private CancellationTokenSource? _monitor;
    private Task _exited = Task.CompletedTask;
    private int _generation;
    private bool _stopRequested;
    private bool _killRequested;
    private bool _everHealthy;
    private string? _startupFailure;
    private int _launches;

    private ResourceState _state = ResourceState.NotStarted;
    private HealthStatus _health = HealthStatus.Unknown;
    private bool _paused;
    private int? _pid;
    private int? _exitCode;
    private DateTimeOffset? _startedAt;
    private DateTimeOffset? _stoppedAt;
    private string? _message;

    internal ResourceInstance(DistributedApplication app, ProjectResource resource, int replica, string name, IReadOnlyDictionary<string, Uri> urls)
    {
        _app = app;
        Resource = resource;
        Replica = replica;
        Name = name;
        Urls = urls;
        Console = new ConsoleLog(app.Options.ConsoleBufferLines);
    }

    /// <summary>Process name, unique in the app (<c>peer-2</c>).</summary>
    public string Name { get; }

    /// <summary>The app-model resource this process belongs to.</summary>
    public ProjectResource Resource { get; }

    /// <summary>1-based replica index.</summary>
    public int Replica { get; }

    /// <summary>Endpoint name to URL; ports stay the same across restarts.</summary>
    public IReadOnlyDictionary<string, Uri> Urls { get; }

    /// <summary>The last lines of the process's stdout and stderr, across restarts.</summary>
    public ConsoleLog Console { get; }

    /// <summary>The dll launched with <c>dotnet</c>; set when the app starts.</summary>
    internal string? DllPath { get; set; }

    /// <summary>Current state, health and process of this resource.</summary>
    public ResourceSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new ResourceSnapshot(
                Name, Resource.Name, Replica, "Project", _state, _health, _paused, _pid, _exitCode, Math.Max(0, _launches - 1),
                _startedAt, _stoppedAt,
                Urls.ToDictionary(pair => pair.Key, pair => pair.Value.ToString().TrimEnd('/'), StringComparer.Ordinal),
                Resource.WaitForResources.Select(resource => resource.Name).ToArray(),
                _message, AvailableCommands());
        }
    }

    /// <summary>Completes at the next change of state, health or process.</summary>
    internal Task NextChange
    {
        get
        {
            lock (_gate)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>Runs one of <see cref="ResourceCommands"/>.</summary>
    internal async Task ExecuteAsync(string command, CancellationToken cancellationToken)
    {
        switch (command)
        {
            case ResourceCommands.Start:
                await WithGateAsync(() => { StartCore(); return Task.CompletedTask; }, cancellationToken);
                break;
            case ResourceCommands.Stop:
                await WithGateAsync(async () =>
                {
                    if (!await StopCoreAsync())
                    {
                        throw new ResourceCommandException($"'{Name}' is {State} and has no process to stop.");
                    }
                }, cancellationToken);
                break;
            case ResourceCommands.Restart:
                await WithGateAsync(async () =>
                {
                    await StopCoreAsync();
                    StartCore();
                }, cancellationToken);
                break;
            case ResourceCommands.Kill:
                // Not behind the command gate: a kill must land even while a slow graceful stop holds it.
                if (!await KillCoreAsync(fromCommand: true))
                {
                    throw new ResourceCommandException($"'{Name}' is {State} and has no process to kill.");
                }

                break;
            case ResourceCommands.Pause:
                await WithGateAsync(() => { Signal(pause: true); return Task.CompletedTask; }, cancellationToken);
                break;
            case ResourceCommands.Resume:
                await WithGateAsync(() => { Signal(pause: false); return Task.CompletedTask; }, cancellationToken);
                break;
            default:
                throw new UnknownCommandException(command);
        }
    }

    /// <summary>Launches the process (the app calls it once the resource's WaitFor dependencies are healthy).</summary>
    internal Task StartAsync(CancellationToken cancellationToken) =>
        WithGateAsync(() => { StartCore(); return Task.CompletedTask; }, cancellationToken);

    /// <summary>Marks the resource FailedToStart without launching it (a dependency failed).</summary>
    internal void FailWithoutLaunch(string message)
    {
        Console.Append("system", message);
        Update(() =>
        {
            _state = ResourceState.FailedToStart;
            _message = message;
        });
    }

    /// <summary>Records why the resource has not started yet (waiting for a dependency).</summary>
    internal void Note(string message)
    {
        Console.Append("system", message);
        Update(() => _message = message);
    }

    /// <summary>Graceful stop for shutdown: SIGTERM, SIGKILL of the tree after the stop timeout. No-op without a process.</summary>
    internal Task StopForShutdownAsync() => StopCoreAsync();

    /// <summary>SIGKILL of the process tree for teardown; waits until the process is reaped.</summary>
    internal Task KillForTeardownAsync() => KillCoreAsync(fromCommand: false);

    /// <summary>Synchronous last resort when the AppHost process itself is exiting.</summary>
    internal void KillNow()
    {
        Process? process;
        lock (_gate)
        {
            process = _process;
        }

        KillTree(process);
    }

    private ResourceState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    private void StartCore()
    {
        int generation;
        lock (_gate)
        {
            if (_state.HasProcess())
            {
                throw new ResourceCommandException($"'{Name}' is {_state}; stop it before starting it again.");
            }

            if (_app.IsShuttingDown)
            {
                throw new ResourceCommandException($"The AppHost is shutting down; '{Name}' is not started.");
            }

            generation = ++_generation;
            _stopRequested = false;
            _killRequested = false;
            _everHealthy = false;
            _startupFailure = null;
        }

        Update(() =>
        {
            _state = ResourceState.Starting;
            _health = HealthStatus.Unknown;
            _paused = false;
            _pid = null;
            _exitCode = null;
            _message = null;
            _startedAt = DateTimeOffset.UtcNow;
            _stoppedAt = null;
        });

        if (DllPath is null || !File.Exists(DllPath))
        {
            FailWithoutLaunch($"Cannot launch '{Name}': {DllPath ?? "its dll"} does not exist. Build {Resource.ProjectFile} first (dotnet build), or start the AppHost with building on.");
            return;
        }

        var process = new Process { StartInfo = _app.CreateStartInfo(this), EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Append("stdout", e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Append("stderr", e.Data);
            }
        };

        Console.Append("system", $"launching {DllPath} ({string.Join(", ", Urls.Select(pair => $"{pair.Key} {pair.Value}"))})");
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            process.Dispose();
            FailWithoutLaunch($"Cannot launch '{Name}': {e.Message}");
            return;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var monitor = new CancellationTokenSource();
        lock (_gate)
        {
            _process = process;
            _monitor = monitor;
            _launches++;
            _exited = WatchExitAsync(process, generation, monitor);
        }

        Update(() => _pid = process.Id);
        _ = MonitorHealthAsync(generation, monitor.Token);
        if (_app.IsShuttingDown)
        {
            // Teardown began while this launch was in flight and may have missed the new process: end it here.
            KillTree(process);
        }
    }

    private async Task WatchExitAsync(Process process, int generation, CancellationTokenSource monitor)
    {
        await process.WaitForExitAsync(CancellationToken.None);
        var code = process.ExitCode;
        await monitor.CancelAsync();
        string? message;
        lock (_gate)
        {
            if (generation != _generation)
            {
                return;
            }

            message = _startupFailure is not null ? _startupFailure
                : _killRequested ? $"killed (SIGKILL) by the kill command; exit code {code}"
                : _stopRequested ? null
                : !_everHealthy ? $"exited with code {code} before it became healthy"
                : $"exited unexpectedly with code {code}";
        }

        Console.Append("system", $"process {process.Id} exited with code {code}");
        Update(() =>
        {
            _state = _startupFailure is not null || (!_stopRequested && !_killRequested && !_everHealthy)
                ? ResourceState.FailedToStart
                : ResourceState.Exited;

            _message = message;
            _exitCode = code;
            _pid = null;
            _paused = false;
            _health = HealthStatus.Unknown;
            _stoppedAt = DateTimeOffset.UtcNow;
            _process = null;
        });
        process.Dispose();
        monitor.Dispose();
    }

    private async Task MonitorHealthAsync(int generation, CancellationToken cancellationToken)
    {
        try
        {
            var path = Resource.HealthCheckPath;
            if (path is null)
            {
                UpdateIfCurrent(generation, () =>
                {
                    if (_state == ResourceState.Starting)
                    {
                        _state = ResourceState.Running;
                        _health = HealthStatus.Healthy;
                        _everHealthy = true;
                    }
                });
                return;
            }

            var url = new Uri(Urls["http"], path);
            var deadline = Stopwatch.StartNew();
            var startupTimeout = TimeSpan.FromSeconds(_app.Options.StartupTimeoutSeconds);
            while (!await _app.ProbeAsync(url, TimeSpan.FromSeconds(2), cancellationToken))
            {
                if (deadline.Elapsed > startupTimeout)
                {
                    await FailStartupAsync(generation, $"did not answer GET {path} with 2xx within {startupTimeout.TotalSeconds:0.#} s");
                    return;
                }

                await Task.Delay(100, cancellationToken);
            }

            Console.Append("system", $"healthy after {deadline.Elapsed.TotalSeconds:0.00} s");
            UpdateIfCurrent(generation, () =>
            {
                if (_state == ResourceState.Starting)
                {
                    _state = ResourceState.Running;
                    _health = HealthStatus.Healthy;
                    _everHealthy = true;
                }
            });

            var interval = TimeSpan.FromSeconds(_app.Options.HealthCheckIntervalSeconds);
            var probeTimeout = TimeSpan.FromSeconds(Math.Max(1, _app.Options.HealthCheckIntervalSeconds));
            var failures = 0;
            while (true)
            {
                await Task.Delay(interval, cancellationToken);
                var healthy = await _app.ProbeAsync(url, probeTimeout, cancellationToken);
                failures = healthy ? 0 : failures + 1;
                var threshold = _app.Options.UnhealthyThreshold;
                UpdateIfCurrent(generation, () =>
                {
                    if (healthy && _state is ResourceState.Running or ResourceState.RuntimeUnhealthy)
                    {
                        _state = ResourceState.Running;
                        _health = HealthStatus.Healthy;
                    }
                    else if (!healthy && failures >= threshold && _state is ResourceState.Running)
                    {
                        _state = ResourceState.RuntimeUnhealthy;
                        _health = HealthStatus.Unhealthy;
                    }
                });
            }
        }
        catch (OperationCanceledException)
        {
            // The process exited or is being stopped; the exit watcher sets the final state.
        }
    }

    private async Task FailStartupAsync(int generation, string reason)
    {
        Process? process;
        lock (_gate)
        {
            if (generation != _generation || _state != ResourceState.Starting)
            {
                return;
            }

            process = _process;
            _startupFailure = $"'{Name}' {reason}; killed it";
        }

        // The state turns FailedToStart when the exit is seen, so waiters find the process already gone.
        Console.Append("system", $"{reason}; killing the process tree");
        KillTree(process);
        Task exited;
        lock (_gate)
        {
            exited = _exited;
        }

        await exited;
    }

    private async Task<bool> StopCoreAsync()
    {
        Process? process;
        Task exited;
        CancellationTokenSource? monitor;
        bool paused;
        lock (_gate)
        {
            if (_process is null || !_state.HasProcess())
            {
                return false;
            }

            process = _process;
            exited = _exited;
            monitor = _monitor;
            paused = _paused;
            _stopRequested = true;
        }

        Update(() => _state = ResourceState.Stopping);
        CancelQuietly(monitor);
        var pid = process.Id;
        if (paused)
        {
            // A stopped process cannot run its SIGTERM handler until it is continued.
            ProcessSignals.Send(pid, ProcessSignals.SigCont);
        }

        ProcessSignals.Send(pid, ProcessSignals.SigTerm);
        var timeout = TimeSpan.FromSeconds(_app.Options.StopTimeoutSeconds);
        try
        {
            await exited.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Console.Append("system", $"did not stop within {timeout.TotalSeconds:0.#} s of SIGTERM; killing the process tree");
            KillTree(process);
            await exited;
        }

        return true;
    }

    private async Task<bool> KillCoreAsync(bool fromCommand)
    {
        Process? process;
        Task exited;
        lock (_gate)
        {
            if (_process is null || !_state.HasProcess())
            {
                return false;
            }

            process = _process;
            exited = _exited;
            if (fromCommand)
            {
                _killRequested = true;
            }
            else
            {
                _stopRequested = true;
            }
        }

        KillTree(process);
        await exited;
        return true;
    }

    private void Signal(bool pause)
    {
        int pid;
        lock (_gate)
        {
            if (_process is null || _state is not (ResourceState.Starting or ResourceState.Running or ResourceState.RuntimeUnhealthy))
            {
                throw new ResourceCommandException($"'{Name}' is {_state}; only a running process can be {(pause ? "paused" : "resumed")}.");
            }

            if (_paused == pause)
            {
                throw new ResourceCommandException($"'{Name}' is {(pause ? "already paused" : "not paused")}.");
            }

            pid = _process.Id;
        }

        if (!ProcessSignals.Send(pid, pause ? ProcessSignals.SigStop : ProcessSignals.SigCont))
        {
            throw new ResourceCommandException($"'{Name}' (pid {pid}) is gone; nothing to {(pause ? "pause" : "resume")}.");
        }

        Console.Append("system", pause ? $"paused (SIGSTOP to {pid})" : $"resumed (SIGCONT to {pid})");
        Update(() => _paused = pause);
    }

    private static void KillTree(Process? process)
    {
        try
        {
            process?.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited (or never started): nothing left to kill.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Raced with the process's own exit.
        }
    }

    private static void CancelQuietly(CancellationTokenSource? source)
    {
        try
        {
            source?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The exit watcher already cancelled and disposed it.
        }
    }

    private async Task WithGateAsync(Func<Task> action, CancellationToken cancellationToken)
    {
        await _commandGate.WaitAsync(cancellationToken);
        try
        {
            await action();
        }
        finally
        {
            _commandGate.Release();
        }
    }

    private IReadOnlyList<string> AvailableCommands() => _state switch
    {
        ResourceState.NotStarted or ResourceState.Exited or ResourceState.FailedToStart => [ResourceCommands.Start, ResourceCommands.Restart],
        ResourceState.Stopping => [ResourceCommands.Kill],
        _ when _paused => [ResourceCommands.Stop, ResourceCommands.Restart, ResourceCommands.Kill, ResourceCommands.Resume],
        _ => [ResourceCommands.Stop, ResourceCommands.Restart, ResourceCommands.Kill, ResourceCommands.Pause],
    };

    private void UpdateIfCurrent(int generation, Action mutate) => Update(() =>
    {
        if (generation == _generation)
        {
            mutate();
        }
    });

    private void Update(Action mutate)
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            var before = (_state, _health, _paused, _pid, _exitCode, _message, _startedAt);
            mutate();
            if (before == (_state, _health, _paused, _pid, _exitCode, _message, _startedAt))
            {
                // Health probes confirm the same state every second; only real changes wake waiters.
                return;
            }

            previous = _changed;
            _changed = NewSignal();
        }

        previous.TrySetResult();
        _app.OnResourceChanged(Snapshot());
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
