using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Testbed.AppHost.Commands;
using Testbed.AppHost.Control;
using Testbed.Chaos.Api;
using Testbed.Chaos.Execution;
using Testbed.Chaos.Proxy;
using Testbed.Contracts.Settings;

namespace Testbed.AppHost.Model;

/// <summary>
/// The testbed's Aspire app model: tracker, peer-1..peer-N behind the fault proxy's loopback plan, inspector and chaos,
/// each with its health check, references, per-run settings and dashboard commands. Program.cs, the headless verbs and
/// the distributed tests all build this one model.
/// </summary>
public sealed class TestbedModel
{
    private const string EnvironmentName = "Production";
    private readonly IDistributedApplicationBuilder _builder;
    private readonly string _dataRoot;
    private readonly SocketsHttpHandler _handler = new() { UseProxy = false };
    private readonly HttpClient _http;

    /// <summary>Adds what every model needs: the control relay, the per-run secret and data root.</summary>
    public TestbedModel(IDistributedApplicationBuilder builder, TestbedSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        _builder = builder;
        Settings = settings;
        Secret = ControlSecret.From(builder.Configuration);
        Relay = new ControlRelay(Control, Secret);
        Plan = LoopbackPlan.CreateRandom();
        _http = new HttpClient(_handler, disposeHandler: false) { Timeout = TimeSpan.FromMinutes(5) };
        _http.DefaultRequestHeaders.Add(ControlSecret.Header, Secret.Value);
        // Every run gets fresh chains and wallets, readable by this user alone, and removed when the AppHost stops.
        _dataRoot = Path.Combine(Path.GetTempPath(), "testbed-peers", $"run-{Guid.NewGuid():n}");
        builder.Eventing.Subscribe<BeforeStartEvent>(async (started, cancellationToken) =>
        {
            CreateOwnerOnlyDirectory(_dataRoot);
            var lifetime = started.Services.GetRequiredService<IHostApplicationLifetime>();
            lifetime.ApplicationStopped.Register(RemoveDataRoot);
            Control.Attach(started.Services, lifetime.ApplicationStopping);
            await Relay.StartAsync(cancellationToken).ConfigureAwait(false);
            lifetime.ApplicationStopped.Register(() => Relay.DisposeAsync().AsTask().GetAwaiter().GetResult());
        });
    }

    /// <summary>The inspector's resource name.</summary>
    public const string InspectorName = "inspector";

    /// <summary>What the user chose.</summary>
    public TestbedSettings Settings { get; }

    /// <summary>The run's data root: peer-N's data directory is DataRoot/peer-N (it exists once the app has started).</summary>
    public string DataRoot => _dataRoot;

    /// <summary>The per-run secret of every control surface.</summary>
    public ControlSecret Secret { get; }

    /// <summary>Kill, pause, resume, start, stop and restart of the resources.</summary>
    public ResourceControl Control { get; } = new();

    /// <summary>Peer API client carrying the secret, for the peers' dashboard commands.</summary>
    public PeerApiClient Peers => new(_http);

    /// <summary>Chaos API client at <paramref name="chaos"/>, carrying the secret.</summary>
    public ChaosApiClient Chaos(Uri chaos) => new(new HttpClient(_handler, disposeHandler: false)
    {
        BaseAddress = chaos,
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestHeaders = { { ControlSecret.Header, Secret.Value } },
    });

    /// <summary>The loopback relay through which the chaos service reaches <see cref="Control"/>.</summary>
    public ControlRelay Relay { get; }

    /// <summary>
    /// peer-N binds 127.A.B.N and advertises 127.A.(B+1).N, where the chaos service's fault proxy listens (or 127.A.B.N
    /// itself with <see cref="TestbedSettings.DirectLinks"/>).
    /// </summary>
    public LoopbackPlan Plan { get; }

    /// <summary>Whether this run has the Aspire dashboard with its telemetry API (the AppHost makes an API key only then).</summary>
    public bool HasDashboard => !string.IsNullOrEmpty(_builder.Configuration["AppHost:DashboardApiKey"]);

    /// <summary>The scenarios file.</summary>
    public string ScenariosFile => ScenariosFileOf(_builder);

    /// <summary>The scenarios file: <c>--scenarios-file F</c>, else scenarios.yaml at the repository root.</summary>
    public static string ScenariosFileOf(IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return Path.GetFullPath(builder.Configuration["scenarios-file"] ?? Path.Combine(builder.AppHostDirectory, "..", "scenarios.yaml"));
    }

    /// <summary>The tracker: HTTP announce and scrape; it takes a peer's advertised address (the proxy's) as its ip.</summary>
    public IResourceBuilder<ProjectResource> AddTracker() =>
        Service<Projects.Testbed_Tracker>("tracker")
            .WithEnvironment(TrackerSettings.AllowClientIp.EnvironmentVariable, "true");

    /// <summary>The peers <c>peer-1..peer-N</c>, each with its own name, data directory, loopback addresses and commands.</summary>
    public IReadOnlyList<IResourceBuilder<ProjectResource>> AddPeers(IResourceBuilder<ProjectResource> tracker)
    {
        var peers = new List<IResourceBuilder<ProjectResource>>();
        for (var n = 1; n <= Settings.Peers; n++)
        {
            var name = $"peer-{n}";
            var lateJoiner = Settings.LateJoiners.Contains(name);
            var peer = Service<ServiceProjects.Peer>(name)
                .WithReference(tracker)
                .WithEnvironment(PeerSettings.PeerName.EnvironmentVariable, name)
                .WithEnvironment(PeerSettings.DataRoot.EnvironmentVariable, _dataRoot)
                .WithEnvironment(PeerSettings.FaultsEnabled.EnvironmentVariable, "true")
                .WithEnvironment(PeerSettings.BindAddress.EnvironmentVariable, Plan.PrivateAddress(n).ToString())
                .WithEnvironment(PeerSettings.AdvertiseAddress.EnvironmentVariable, (Settings.DirectLinks ? Plan.PrivateAddress(n) : Plan.PublicAddress(n)).ToString())
                // Short intervals: membership and catch-up on loopback should take seconds, not the defaults meant for real networks.
                .WithEnvironment(PeerSettings.AnnounceIntervalSeconds.EnvironmentVariable, PeerSettings.AnnounceIntervalSeconds.Format(2))
                .WithEnvironment(PeerSettings.SegmentBlocks.EnvironmentVariable, PeerSettings.SegmentBlocks.Format(Settings.SegmentBlocks ?? TestbedSettings.DefaultSegmentBlocks))
                .WithEnvironment(PeerSettings.DownloadTimeoutSeconds.EnvironmentVariable, PeerSettings.DownloadTimeoutSeconds.Format(10))
                .WithEnvironment(PeerSettings.DhtPort.EnvironmentVariable, PeerSettings.DhtPort.Format(DhtPort));
            if (Settings.DhtBootstrap.GetValueOrDefault(name) is { } bootstrap)
            {
                peer.WithEnvironment(PeerSettings.DhtBootstrap.EnvironmentVariable, string.Join(',', bootstrap.Select(DhtEndPoint)));
            }

            if (lateJoiner)
            {
                // A late joiner is a new peer when it first starts: no chain, no DHT nodes, no swarm peers from an earlier run.
                // It does not wait for the tracker, which a scenario may have stopped by then (tracker-down-join).
                peer.WithExplicitStart();
            }
            else
            {
                peer.WaitFor(tracker);
            }

            if (Settings.DifficultyBits is { } bits)
            {
                peer.WithEnvironment(PeerSettings.DifficultyBits.EnvironmentVariable, PeerSettings.DifficultyBits.Format(bits));
            }

            if (Settings.MiningIntervalMs is { } interval)
            {
                peer.WithEnvironment(PeerSettings.MiningIntervalMs.EnvironmentVariable, PeerSettings.MiningIntervalMs.Format(interval));
            }

            // Deliberate defects (--broken peer-N=MODE): only for the tests proving that each chaos check can fail.
            if (Settings.Broken.GetValueOrDefault(name) is { } modes)
            {
                peer.WithEnvironment(PeerSettings.Broken.EnvironmentVariable, modes);
            }

            PeerCommands.Add(peer, this);
            peers.Add(peer);
        }

        return peers;
    }

    /// <summary>
    /// The UDP port of every peer's DHT node, on its advertised address: one address per peer and per run, so a fixed port is
    /// free, and a peer's DHT address is known before it starts (for <see cref="TestbedSettings.DhtBootstrap"/>).
    /// </summary>
    public const int DhtPort = 6881;

    /// <summary>Where peer <paramref name="name"/>'s DHT node listens: its advertised address (the DHT is not proxied) and <see cref="DhtPort"/>.</summary>
    public string DhtEndPoint(string name)
    {
        var n = int.Parse(name.AsSpan(name.LastIndexOf('-') + 1), CultureInfo.InvariantCulture);
        var address = Settings.DirectLinks ? Plan.PrivateAddress(n) : Plan.PublicAddress(n);
        return $"{address}:{DhtPort}";
    }

    /// <summary>
    /// Has <paramref name="fill"/> write into <paramref name="peer"/>'s data directory (DataRoot/peer-N, created readable by
    /// this user alone) before any resource starts, so the peer starts with it: a prepared chain in <c>chain/</c>, for
    /// example. The directory goes with the data root when the AppHost stops.
    /// </summary>
    public void PrepareData(IResourceBuilder<ProjectResource> peer, Action<string> fill)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(fill);
        var directory = Path.Combine(_dataRoot, peer.Resource.Name);
        _builder.Eventing.Subscribe<BeforeStartEvent>((_, _) =>
        {
            CreateOwnerOnlyDirectory(_dataRoot);
            CreateOwnerOnlyDirectory(directory);
            fill(directory);
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// The inspector: per-block peer comparison, chain view and fault marks, read back from the Aspire dashboard's
    /// telemetry API (so it is never in the services' export path).
    /// </summary>
    public IResourceBuilder<ProjectResource> AddInspector() =>
        Service<Projects.Testbed_Inspector>(InspectorName)
            .WithEnvironment(context =>
            {
                if (DashboardTelemetryApi.Find(context.ExecutionContext, _builder.Configuration) is { } api)
                {
                    context.EnvironmentVariables[InspectorSettings.DashboardUrl.EnvironmentVariable] = api.Url;
                    context.EnvironmentVariables[InspectorSettings.DashboardApiKey.EnvironmentVariable] = api.ApiKey;
                }
            });

    /// <summary>The chaos controller: fault proxy on every peer link, scenarios, and process control through the relay.</summary>
    public IResourceBuilder<ProjectResource> AddChaos(IResourceBuilder<ProjectResource> tracker, IReadOnlyList<IResourceBuilder<ProjectResource>> peers)
    {
        if (Settings.DirectLinks)
        {
            throw new InvalidOperationException("the fault proxy sees no peer traffic when peers advertise their own addresses (TestbedSettings.DirectLinks)");
        }

        var chaos = Service<ServiceProjects.Chaos>("chaos")
            .WithReference(tracker)
            .WaitFor(tracker)
            .WithEnvironment(ChaosSettings.LoopbackPlan.EnvironmentVariable, string.Create(CultureInfo.InvariantCulture, $"127.{Plan.A}.{Plan.B}"))
            .WithEnvironment(ChaosSettings.ScenariosFile.EnvironmentVariable, ScenariosFile)
            .WithEnvironment(context => context.EnvironmentVariables[ChaosSettings.ControlApiUrl.EnvironmentVariable] =
                Relay.Url?.ToString() ?? throw new InvalidOperationException("the control relay has not started"));
        foreach (var peer in peers)
        {
            chaos.WithReference(peer);
        }

        ChaosCommands.Add(chaos, this);
        return chaos;
    }

    /// <summary>A service project with what every testbed service gets: an HTTP endpoint, /health, Production, the secret.</summary>
    private IResourceBuilder<ProjectResource> Service<TProject>(string name)
        where TProject : IProjectMetadata, new() =>
        _builder.AddProject<TProject>(name)
            .WithHttpEndpoint()
            .WithHttpHealthCheck("/health")
            // Production: no developer exception page, whatever environment the AppHost itself runs in.
            .WithEnvironment("ASPNETCORE_ENVIRONMENT", EnvironmentName)
            .WithEnvironment("DOTNET_ENVIRONMENT", EnvironmentName)
            .WithEnvironment(ControlSecret.EnvironmentVariable, Secret.Value)
            .WithEnvironment(WithoutDeadTelemetryEndpoint)
            // DCP stops resources gracefully after the AppHost dies, through `dotnet run`, which takes longer than the 10 s a
            // user waits; each service also watches the AppHost's pid and ends at once (ServiceDefaults/ParentProcessWatch.cs).
            .WithEnvironment("TESTBED_PARENT_PID", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

    /// <summary>Creates <paramref name="directory"/> (and its parents) readable by this user alone: peers keep their keys there.</summary>
    private static void CreateOwnerOnlyDirectory(string directory)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(directory)!);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>
    /// Without a dashboard (Aspire.Hosting.Testing's default) Aspire still points OTLP at localhost:4317, where nothing
    /// listens; every service then spent more than 12 s of its graceful stop flushing spans there, past DCP's stop timeout,
    /// so Aspire's stop failed. With no dashboard in the model, the services get no OTLP endpoint and export nothing.
    /// </summary>
    private static void WithoutDeadTelemetryEndpoint(EnvironmentCallbackContext context)
    {
        var model = context.ExecutionContext.Services.GetRequiredService<DistributedApplicationModel>();
        if (!model.Resources.Any(r => r.Name == DashboardTelemetryApi.DashboardResourceName))
        {
            foreach (var name in context.EnvironmentVariables.Keys.Where(k => k.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal)).ToList())
            {
                context.EnvironmentVariables.Remove(name);
            }
        }
    }

    private void RemoveDataRoot()
    {
        try
        {
            if (Directory.Exists(_dataRoot))
            {
                Directory.Delete(_dataRoot, recursive: true);
            }
        }
        catch (IOException)
        {
            // A peer killed at shutdown may hold a file for a moment; the temp directory is the OS's to clean then.
        }
    }
}
