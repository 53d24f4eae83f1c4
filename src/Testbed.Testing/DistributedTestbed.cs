using System.Diagnostics;
using Testbed.AppHost;
using Testbed.AppHost.AppModel;
using Testbed.AppHost.Orchestration;
using Testbed.Testing.ControlApi;

namespace Testbed.Testing;

/// <summary>
/// A running testbed for a test, in the shape of Aspire.Hosting.Testing: start it (the AppHost's own model or one the test
/// builds), reach resources by name, wait for conditions, drive the control API; disposing kills every process.
/// Failures fail fast and say why: a resource that exits or never becomes healthy throws with its console tail, and an
/// unknown name throws with the names that exist.
/// </summary>
public sealed class DistributedTestbed : IAsyncDisposable
{
    /// <summary>Console lines quoted in failure messages.</summary>
    public const int ConsoleTailLines = 40;

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);
    private readonly List<HttpClient> _clients = [];
    private readonly Lock _gate = new();
    private int _disposed;

    private DistributedTestbed(DistributedApplication app)
    {
        App = app;
        Control = new ControlApiClient(app.ControlApiUrl!);
    }

    /// <summary>The orchestrator, running inside the test process.</summary>
    public DistributedApplication App { get; }

    /// <summary>Client of the control API (JSON over HTTP on loopback), the way the dashboard and chaos controller drive it.</summary>
    public ControlApiClient Control { get; }

    /// <summary>Base URL of the control API.</summary>
    public Uri ControlApiUrl => App.ControlApiUrl!;

    /// <summary>
    /// Options for tests: nothing is built (the test project references the services so they are built first), the
    /// control API takes a free port, and no OTLP endpoint is handed down unless the test sets one.
    /// </summary>
    public static AppHostOptions TestOptions(Action<AppHostOptions>? configure = null)
    {
        var options = new AppHostOptions { Build = false, ControlApiPort = 0, OtlpEndpoint = null, StopTimeoutSeconds = 5 };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A builder with <see cref="TestOptions"/>, for a test that defines its own app model.</summary>
    public static DistributedApplicationBuilder CreateBuilder(Action<AppHostOptions>? configure = null) =>
        DistributedApplicationBuilder.Create(TestOptions(configure));

    /// <summary>Starts the AppHost's own app model (<see cref="TestbedAppModel"/>) and waits until every resource is healthy.</summary>
    public static Task<DistributedTestbed> StartAsync(Action<AppHostOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var builder = CreateBuilder(configure);
        TestbedAppModel.Define(builder);
        return StartAsync(builder, cancellationToken);
    }

    /// <summary>
    /// Starts <paramref name="builder"/>'s model and waits until every resource is healthy; if one is not (failed to start,
    /// exited, unhealthy past the startup timeout, or a dependency failed), kills everything and throws
    /// <see cref="ResourceFailedException"/> with the console tail of each failed resource.
    /// </summary>
    public static async Task<DistributedTestbed> StartAsync(DistributedApplicationBuilder builder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var app = builder.Build();
        try
        {
            var snapshots = await app.StartAsync(cancellationToken);
            // RuntimeUnhealthy counts as started: it was healthy, and one slow probe on a loaded machine is not a failed start.
            var failed = snapshots.Where(snapshot => snapshot.State is not (ResourceState.Running or ResourceState.RuntimeUnhealthy)).ToArray();
            if (failed.Length > 0)
            {
                throw new ResourceFailedException(
                    $"{failed.Length} of {snapshots.Count} resources did not become healthy: {string.Join(", ", failed.Select(s => $"{s.Name} ({s.State})"))}.",
                    failed.Select(snapshot => (snapshot, app.GetInstance(snapshot.Name).Console.TailText(ConsoleTailLines))).ToArray());
            }

            return new DistributedTestbed(app);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>The current snapshot of a resource; unknown names throw <see cref="UnknownResourceException"/> listing the names.</summary>
    public ResourceSnapshot GetResource(string name) => App.GetInstance(name).Snapshot();

    /// <summary>Snapshots of every resource.</summary>
    public IReadOnlyList<ResourceSnapshot> Resources => App.Snapshot();

    /// <summary>URL of <paramref name="endpoint"/> of resource <paramref name="name"/> (<c>http://127.0.0.1:PORT</c>).</summary>
    public Uri GetEndpoint(string name, string endpoint = "http")
    {
        var instance = App.GetInstance(name);
        return instance.Urls.TryGetValue(endpoint, out var url)
            ? url
            : throw new UnknownResourceException($"'{name}' has no endpoint named '{endpoint}'. Its endpoints: {string.Join(", ", instance.Urls.Keys)}.");
    }

    /// <summary>An HttpClient whose base address is the resource's endpoint; disposed with the testbed.</summary>
    public HttpClient CreateHttpClient(string name, string endpoint = "http")
    {
        var url = GetEndpoint(name, endpoint);
        if (url.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"Endpoint '{endpoint}' of '{name}' is {url.Scheme}, not HTTP.", nameof(endpoint));
        }

        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        lock (_gate)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>The last console lines of a resource, as text.</summary>
    public string ConsoleTail(string name, int lines = ConsoleTailLines) => App.GetInstance(name).Console.TailText(lines);

    /// <summary>Waits until the resource is Running and healthy; throws at once with its console tail if it exits or fails.</summary>
    public Task<ResourceSnapshot> WaitForHealthyAsync(string name, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitForResourceAsync(name, snapshot => snapshot is { State: ResourceState.Running, Health: HealthStatus.Healthy }, "Running and healthy",
            failFast: true, timeout, cancellationToken);

    /// <summary>Waits until the resource reaches <paramref name="state"/>.</summary>
    public Task<ResourceSnapshot> WaitForStateAsync(string name, ResourceState state, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitForResourceAsync(name, snapshot => snapshot.State == state, state.ToString(), failFast: !state.IsTerminal(), timeout, cancellationToken);

    /// <summary>
    /// Waits until <paramref name="predicate"/> holds for the resource. With <paramref name="failFast"/>, a resource that
    /// reaches Exited or FailedToStart first ends the wait at once with <see cref="ResourceFailedException"/>.
    /// </summary>
    public async Task<ResourceSnapshot> WaitForResourceAsync(
        string name, Func<ResourceSnapshot, bool> predicate, string description, bool failFast, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var instance = App.GetInstance(name);
        var limit = timeout ?? DefaultTimeout;
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(limit);
        try
        {
            var reached = await App.WaitForResourceAsync(name, snapshot => predicate(snapshot) || (failFast && snapshot.State.IsTerminal()), timeoutSource.Token);
            if (!predicate(reached))
            {
                throw new ResourceFailedException($"'{name}' is {reached.State} while waiting for it to be {description}.", [(reached, instance.Console.TailText(ConsoleTailLines))]);
            }

            return reached;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var now = instance.Snapshot();
            throw new TimeoutException(
                $"'{name}' did not become {description} within {limit.TotalSeconds:0.#} s; it is {now.State} (health {now.Health}" +
                $"{(now.Message is null ? "" : ", " + now.Message)}). Console tail:{Environment.NewLine}{instance.Console.TailText(ConsoleTailLines)}");
        }
    }

    /// <summary>
    /// Polls <paramref name="condition"/> every 100 ms until it holds; on timeout, throws with the last error and every
    /// resource's state. When a resource named in <paramref name="failFastOn"/> reaches Exited or FailedToStart, the wait
    /// ends at once with <see cref="ResourceFailedException"/> and its console tail instead of running into the timeout.
    /// </summary>
    public async Task WaitForAsync(
        Func<Task<bool>> condition, TimeSpan timeout, string because, IReadOnlyCollection<string>? failFastOn = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        // Unknown names fail here, not after the timeout.
        var watched = (failFastOn ?? []).Select(App.GetInstance).ToArray();
        var clock = Stopwatch.StartNew();
        Exception? lastError = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var failed = watched.Select(instance => (Instance: instance, Snapshot: instance.Snapshot())).Where(pair => pair.Snapshot.State.IsTerminal()).ToArray();
            if (failed.Length > 0)
            {
                throw new ResourceFailedException(
                    $"While waiting for {because}: {string.Join(", ", failed.Select(pair => $"{pair.Snapshot.Name} is {pair.Snapshot.State}"))}.",
                    failed.Select(pair => (pair.Snapshot, pair.Instance.Console.TailText(ConsoleTailLines))).ToArray());
            }

            try
            {
                if (await condition())
                {
                    return;
                }

                lastError = null;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or IOException or ControlApiException)
            {
                lastError = e;
            }

            if (clock.Elapsed > timeout)
            {
                var states = string.Join(", ", App.Snapshot().Select(s => $"{s.Name} {s.State}{(s.Paused ? " (paused)" : "")}"));
                throw new TimeoutException(
                    $"Timed out after {timeout.TotalSeconds:0.#} s waiting for: {because}. Resources: {states}." +
                    (lastError is null ? "" : $" Last error: {lastError.GetType().Name}: {lastError.Message}"));
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Polls a synchronous <paramref name="condition"/>; see the asynchronous overload.</summary>
    public Task WaitForAsync(
        Func<bool> condition, TimeSpan timeout, string because, IReadOnlyCollection<string>? failFastOn = null, CancellationToken cancellationToken = default) =>
        WaitForAsync(() => Task.FromResult(condition()), timeout, because, failFastOn, cancellationToken);

    /// <summary>Kills every process (SIGKILL of each tree, in parallel), waits until each is reaped, stops the control API.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await App.DisposeAsync();
        }
        finally
        {
            Control.Dispose();
            lock (_gate)
            {
                foreach (var client in _clients)
                {
                    client.Dispose();
                }
            }
        }
    }
}
