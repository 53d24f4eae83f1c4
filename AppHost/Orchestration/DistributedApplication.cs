using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Testbed.AppHost.AppModel;
using Testbed.AppHost.ControlApi;

namespace Testbed.AppHost.Orchestration;

/// <summary>A built app model running as processes: start in WaitFor order, commands, ordered stop, certain teardown.</summary>
public sealed class DistributedApplication : IAsyncDisposable
{
    private readonly ResourceInstance[] _instances;
    private readonly Dictionary<string, ResourceInstance> _byName;
    private readonly ControlApiResource _controlApiResource;
    private readonly HttpClient _probeClient;
    private readonly EventHandler _onProcessExit;
    private ControlApiServer? _controlApi;
    private int _shuttingDown;
    private int _started;
    private int _disposed;

    internal DistributedApplication(AppHostOptions options, IReadOnlyList<ProjectResource> resources, ControlApiResource controlApi)
    {
        Options = options;
        Resources = resources;
        _controlApiResource = controlApi;

        var ports = new PortAllocator();
        ports.Reserve(options.Dashboard.UiPort);
        ports.Reserve(options.Dashboard.OtlpGrpcPort);
        ports.Reserve(options.Dashboard.OtlpHttpPort);
        ports.Reserve(options.ControlApiPort);
        foreach (var fixedPort in resources.SelectMany(resource => resource.Endpoints).Select(endpoint => endpoint.Port).OfType<int>())
        {
            ports.Reserve(fixedPort);
        }

        var instances = new List<ResourceInstance>();
        foreach (var resource in resources)
        {
            AppHostOptions.Check(resource.Replicas <= 1 || resource.Endpoints.All(endpoint => endpoint.Port is null),
                $"'{resource.Name}' has {resource.Replicas} replicas and a fixed port; replicas need allocated ports.");
            var names = resource.InstanceNames;
            for (var index = 0; index < names.Count; index++)
            {
                var urls = resource.Endpoints.ToDictionary(
                    endpoint => endpoint.Name,
                    endpoint => new Uri($"{endpoint.Scheme}://127.0.0.1:{endpoint.Port ?? ports.Allocate(endpoint.IsUdp)}"),
                    StringComparer.Ordinal);
                instances.Add(new ResourceInstance(this, resource, index + 1, names[index], urls));
            }
        }

        _instances = instances.ToArray();
        _byName = _instances.ToDictionary(instance => instance.Name, StringComparer.Ordinal);
        _probeClient = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(1),
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        });

        // Last resort when the process hosting the AppHost exits without disposing it (unhandled exception, Environment.Exit).
        _onProcessExit = (_, _) => KillAllNow();
        AppDomain.CurrentDomain.ProcessExit += _onProcessExit;
    }

    /// <summary>The run's settings.</summary>
    public AppHostOptions Options { get; }

    /// <summary>App-model resources, in definition order.</summary>
    public IReadOnlyList<ProjectResource> Resources { get; }

    /// <summary>Every process of every resource (replicas expanded), in definition order.</summary>
    public IReadOnlyList<ResourceInstance> Instances => _instances;

    /// <summary>Base URL of the control API once started.</summary>
    public Uri? ControlApiUrl => _controlApi?.Url;

    /// <summary>Raised after every change of a resource's state, health or process (on the thread that changed it).</summary>
    public event Action<ResourceSnapshot>? ResourceChanged;

    internal bool IsShuttingDown => Volatile.Read(ref _shuttingDown) != 0;

    /// <summary>The process named <paramref name="name"/>; a clear error lists the names when it does not exist.</summary>
    public ResourceInstance GetInstance(string name)
    {
        if (_byName.TryGetValue(name, out var instance))
        {
            return instance;
        }

        var replicated = Resources.FirstOrDefault(resource => resource.Name == name);
        var hint = replicated is null ? ""
            : replicated.Replicas == 0 ? $" '{name}' is defined with 0 replicas."
            : $" '{name}' has replicas; name one of them: {string.Join(", ", replicated.InstanceNames)}.";
        throw new UnknownResourceException(
            $"No resource named '{name}'.{hint} Resources: {(_instances.Length == 0 ? "(none)" : string.Join(", ", _instances.Select(i => i.Name)))}.");
    }

    /// <summary>Snapshots of every process.</summary>
    public IReadOnlyList<ResourceSnapshot> Snapshot() => _instances.Select(instance => instance.Snapshot()).ToArray();

    /// <summary>
    /// Builds the projects (when <see cref="AppHostOptions.Build"/>), starts the control API, launches every resource once its
    /// WaitFor dependencies are healthy, and returns when each one is Running or has failed. Failures are in the snapshots.
    /// </summary>
    public async Task<IReadOnlyList<ResourceSnapshot>> StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("This app was started already; build a new one from the builder.");
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await ResolveOutputsAsync(cancellationToken);
        _controlApi = await ControlApiServer.StartAsync(this, Options.ControlApiPort, cancellationToken);
        await Task.WhenAll(_instances.Select(instance => LaunchWhenReadyAsync(instance, cancellationToken)));
        return Snapshot();
    }

    /// <summary>Waits until the snapshot of <paramref name="name"/> satisfies <paramref name="predicate"/>.</summary>
    public async Task<ResourceSnapshot> WaitForResourceAsync(string name, Func<ResourceSnapshot, bool> predicate, CancellationToken cancellationToken)
    {
        var instance = GetInstance(name);
        while (true)
        {
            // Take the change signal before reading, so a change between the two cannot be missed.
            var next = instance.NextChange;
            var snapshot = instance.Snapshot();
            if (predicate(snapshot))
            {
                return snapshot;
            }

            await next.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Runs a command (<see cref="ResourceCommands"/>) on the process named <paramref name="name"/>.</summary>
    public async Task<ResourceSnapshot> ExecuteCommandAsync(string name, string command, CancellationToken cancellationToken = default)
    {
        var instance = GetInstance(name);
        if (!ResourceCommands.All.Contains(command))
        {
            throw new UnknownCommandException(command);
        }

        await instance.ExecuteAsync(command, cancellationToken);
        return instance.Snapshot();
    }

    /// <summary>Stops every process gracefully, dependents before what they depend on, then the control API.</summary>
    public async Task StopAsync()
    {
        Interlocked.Exchange(ref _shuttingDown, 1);
        foreach (var wave in StopWaves())
        {
            await Task.WhenAll(wave.SelectMany(InstancesOf).Select(instance => instance.StopForShutdownAsync()));
        }

        if (_controlApi is not null)
        {
            await _controlApi.DisposeAsync();
        }
    }

    /// <summary>SIGKILLs every process tree at once and waits until each is reaped.</summary>
    public async Task KillAllAsync()
    {
        Interlocked.Exchange(ref _shuttingDown, 1);
        await Task.WhenAll(_instances.Select(instance => instance.KillForTeardownAsync()));
    }

    /// <summary>Fast, certain teardown: kill everything, stop the control API.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await KillAllAsync();
        if (_controlApi is not null)
        {
            await _controlApi.DisposeAsync();
        }

        AppDomain.CurrentDomain.ProcessExit -= _onProcessExit;
        _probeClient.Dispose();
    }

    internal void OnResourceChanged(ResourceSnapshot snapshot) => ResourceChanged?.Invoke(snapshot);

    internal async Task<bool> ProbeAsync(Uri url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = await _probeClient.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The command line and Aspire's environment for one process.</summary>
    internal ProcessStartInfo CreateStartInfo(ResourceInstance instance)
    {
        var resource = instance.Resource;
        var startInfo = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // A pipe nobody writes: children never read the AppHost's terminal.
            RedirectStandardInput = true,
            WorkingDirectory = Path.GetDirectoryName(resource.ProjectFile)!,
        };
        startInfo.FileName = DotnetHost.LaunchPrefix[0];
        foreach (var arg in DotnetHost.LaunchPrefix.Skip(1))
        {
            startInfo.ArgumentList.Add(arg);
        }

        startInfo.ArgumentList.Add(instance.DllPath!);
        foreach (var arg in resource.Args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        var environment = startInfo.Environment;
        // Inherited values would point the child at the wrong ports, collector or parent.
        foreach (var key in environment.Keys.ToArray())
        {
            if (key.StartsWith("OTEL_", StringComparison.Ordinal) || key.StartsWith("services__", StringComparison.Ordinal) ||
                key is "ASPNETCORE_URLS" or "ASPNETCORE_HTTP_PORTS" or "ASPNETCORE_HTTPS_PORTS" or "DOTNET_URLS" or ParentPidVariable)
            {
                environment.Remove(key);
            }
        }

        foreach (var (name, value) in ChildEnvironment(instance))
        {
            environment[name] = value;
        }

        return startInfo;
    }

    /// <summary>The variable through which children learn the AppHost's pid (ServiceDefaults' ParentProcessWatch reads it).</summary>
    public const string ParentPidVariable = "TESTBED_PARENT_PID";

    /// <summary>The variable through which a child learns its own process name (<c>peer-2</c>).</summary>
    public const string ResourceNameVariable = "TESTBED_RESOURCE_NAME";

    /// <summary>Aspire's environment for one process, in the order it is applied (later entries win).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ChildEnvironment(ResourceInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var resource = instance.Resource;
        var variables = new List<KeyValuePair<string, string>>();
        void Set(string name, string value) => variables.Add(new(name, value));

        var httpUrls = resource.Endpoints.Where(endpoint => endpoint.IsHttp).Select(endpoint => HostUrl(instance.Urls[endpoint.Name])).ToArray();
        if (httpUrls.Length > 0)
        {
            Set("ASPNETCORE_URLS", string.Join(';', httpUrls));
        }

        foreach (var endpoint in resource.Endpoints.Where(endpoint => !endpoint.IsHttp))
        {
            var url = instance.Urls[endpoint.Name];
            Set(endpoint.EnvironmentVariable!, $"{url.Host}:{url.Port}");
        }

        // As the Aspire template's appsettings.json: without it, Development logs every health probe at Information
        // (eight lines a second per resource) and the probes push everything else out of the console buffer.
        Set("Logging__LogLevel__Microsoft.AspNetCore", "Warning");
        Set("ASPNETCORE_ENVIRONMENT", Options.EnvironmentName);
        Set("DOTNET_ENVIRONMENT", Options.EnvironmentName);
        Set("OTEL_SERVICE_NAME", resource.Name);
        Set("OTEL_RESOURCE_ATTRIBUTES", $"service.instance.id={instance.Name}");
        // Aspire's development delays: telemetry reaches the dashboard within a second instead of five.
        Set("OTEL_BSP_SCHEDULE_DELAY", "1000");
        Set("OTEL_BLRP_SCHEDULE_DELAY", "1000");
        Set("OTEL_METRIC_EXPORT_INTERVAL", "1000");
        if (!string.IsNullOrWhiteSpace(Options.OtlpEndpoint))
        {
            Set("OTEL_EXPORTER_OTLP_ENDPOINT", Options.OtlpEndpoint);
            Set("OTEL_EXPORTER_OTLP_PROTOCOL", Options.OtlpProtocol);
        }

        Set(ParentPidVariable, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Set(ResourceNameVariable, instance.Name);

        foreach (var reference in resource.References)
        {
            if (reference is ControlApiResource)
            {
                if (ControlApiUrl is { } controlUrl)
                {
                    Set($"services__{reference.Name}__http__0", HostUrl(controlUrl));
                }

                continue;
            }

            var replicas = _instances.Where(candidate => ReferenceEquals(candidate.Resource, reference)).ToArray();
            foreach (var endpoint in reference.Endpoints)
            {
                for (var index = 0; index < replicas.Length; index++)
                {
                    Set($"services__{reference.Name}__{endpoint.Name}__{index}", HostUrl(replicas[index].Urls[endpoint.Name]));
                    if (replicas.Length > 1 || replicas[index].Name != reference.Name)
                    {
                        // Each replica also under its own name, so a service can call one peer: http://peer-2.
                        Set($"services__{replicas[index].Name}__{endpoint.Name}__0", HostUrl(replicas[index].Urls[endpoint.Name]));
                    }
                }
            }
        }

        foreach (var (name, value) in resource.Environment)
        {
            Set(name, value);
        }

        return variables;
    }

    private static string HostUrl(Uri url) => $"{url.Scheme}://{url.Host}:{url.Port}";

    private async Task LaunchWhenReadyAsync(ResourceInstance instance, CancellationToken cancellationToken)
    {
        foreach (var dependency in instance.Resource.WaitForResources.SelectMany(InstancesOf))
        {
            if (dependency.Snapshot().State != ResourceState.Running)
            {
                instance.Note($"waiting for '{dependency.Name}' to be healthy");
            }

            var settled = await WaitForResourceAsync(dependency.Name, s => s.State == ResourceState.Running || s.State.IsTerminal(), cancellationToken);
            if (settled.State != ResourceState.Running)
            {
                instance.FailWithoutLaunch($"Not started: dependency '{dependency.Name}' is {settled.State}{(settled.Message is null ? "" : $" ({settled.Message})")}.");
                return;
            }
        }

        await instance.StartAsync(cancellationToken);
        await WaitForResourceAsync(instance.Name, s => s.State != ResourceState.Starting, cancellationToken);
    }

    private IEnumerable<ResourceInstance> InstancesOf(ProjectResource resource) =>
        _instances.Where(instance => ReferenceEquals(instance.Resource, resource));

    /// <summary>Groups of resources to stop together: nothing is stopped before every resource that uses it.</summary>
    private List<List<ProjectResource>> StopWaves()
    {
        var rank = new Dictionary<ProjectResource, int>();
        var onPath = new HashSet<ProjectResource>();

        int Rank(ProjectResource resource)
        {
            if (rank.TryGetValue(resource, out var known))
            {
                return known;
            }

            onPath.Add(resource);
            var users = Resources.Where(user => user.WaitForResources.Contains(resource) || user.References.Contains(resource));
            var value = 0;
            foreach (var user in users)
            {
                // References may form cycles (A and B call each other); such an edge says nothing about order.
                if (!onPath.Contains(user))
                {
                    value = Math.Max(value, Rank(user) + 1);
                }
            }

            onPath.Remove(resource);
            rank[resource] = value;
            return value;
        }

        foreach (var resource in Resources)
        {
            Rank(resource);
        }

        return Resources.GroupBy(resource => rank[resource]).OrderBy(group => group.Key).Select(group => group.ToList()).ToList();
    }

    private async Task ResolveOutputsAsync(CancellationToken cancellationToken)
    {
        var configuration = Options.Configuration ?? AppHostOptions.BuiltConfiguration;
        var projects = Resources.Where(resource => resource.Replicas > 0).Select(resource => resource.ProjectFile).Distinct().ToArray();
        IReadOnlyDictionary<string, string> outputs;
        if (Options.Build && projects.Length > 0)
        {
            outputs = await ProjectOutputs.BuildAsync(projects, configuration, cancellationToken);
        }
        else
        {
            var framework = typeof(DistributedApplication).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(attribute => attribute.Key == "TargetFramework")?.Value ?? "net10.0";
            outputs = projects.ToDictionary(project => project, project => ProjectOutputs.Conventional(project, configuration, framework));
        }

        foreach (var instance in _instances)
        {
            instance.DllPath = outputs[instance.Resource.ProjectFile];
        }
    }

    private void KillAllNow()
    {
        foreach (var instance in _instances)
        {
            instance.KillNow();
        }
    }
}
