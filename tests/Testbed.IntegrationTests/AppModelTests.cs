using Testbed.AppHost;
using Testbed.AppHost.AppModel;
using Testbed.AppHost.Orchestration;
using Testbed.Testing;

namespace Testbed.IntegrationTests;

/// <summary>The app model without processes: validation messages, replicas, ports and the environment handed down.</summary>
public sealed class AppModelTests
{
    private const string Probe = "../tests/Testbed.ProbeService";

    [Theory]
    [InlineData("Peer")]
    [InlineData("peer_1")]
    [InlineData("1peer")]
    [InlineData("peer--1")]
    [InlineData("")]
    public void Invalid_resource_names_are_rejected_with_the_name(string name)
    {
        var builder = DistributedTestbed.CreateBuilder();
        var error = Assert.Throws<ArgumentException>(() => builder.AddProject(name, Probe));
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_names_missing_projects_and_the_reserved_name_are_rejected()
    {
        var builder = DistributedTestbed.CreateBuilder();
        builder.AddProject("probe", Probe);
        Assert.Contains("already exists", Assert.Throws<ArgumentException>(() => builder.AddProject("probe", Probe)).Message, StringComparison.Ordinal);
        Assert.Contains("no project at", Assert.Throws<ArgumentException>(() => builder.AddProject("ghost", "../src/Testbed.Ghost")).Message, StringComparison.Ordinal);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => builder.AddProject("apphost", Probe)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Replica_names_that_clash_with_another_resource_fail_the_build()
    {
        var builder = DistributedTestbed.CreateBuilder();
        builder.AddProject("peer", Probe).WithReplicas(2);
        builder.AddProject("peer-1", Probe);
        var error = Assert.Throws<ArgumentException>(builder.Build);
        Assert.Contains("'peer-1'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wait_cycle_fails_the_build_and_names_the_cycle()
    {
        var builder = DistributedTestbed.CreateBuilder();
        var a = builder.AddProject("a", Probe);
        var b = builder.AddProject("b", Probe).WaitFor(a);
        a.WaitFor(b);
        var error = Assert.Throws<ArgumentException>(builder.Build);
        Assert.Contains("a -> b -> a", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reference_outside_the_model_fails_the_build()
    {
        var other = DistributedTestbed.CreateBuilder().AddProject("elsewhere", Probe);
        var builder = DistributedTestbed.CreateBuilder();
        builder.AddProject("probe", Probe).WithReference(other);
        Assert.Contains("'elsewhere'", Assert.Throws<ArgumentException>(builder.Build).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_options_name_the_setting()
    {
        var error = Assert.Throws<ArgumentException>(() => DistributedTestbed.CreateBuilder(options => options.Peers = -1));
        Assert.Contains("AppHost:Peers", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => DistributedTestbed.CreateBuilder(options => options.OtlpEndpoint = "not a url"));
        Assert.Contains("AppHost:OtlpEndpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_model_has_a_tracker_with_http_and_udp_endpoints_and_a_health_check()
    {
        var builder = DistributedTestbed.CreateBuilder();
        TestbedAppModel.Define(builder);
        var tracker = Assert.Single(builder.Resources, resource => resource.Name == "tracker");
        Assert.Equal("/health", tracker.HealthCheckPath);
        Assert.Equal(["http", "udp"], tracker.Endpoints.Select(endpoint => endpoint.Name));
        Assert.EndsWith("Testbed.Tracker.csproj", tracker.ProjectFile, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replicas_get_their_own_names_and_ports_and_Aspire_environment()
    {
        var builder = DistributedTestbed.CreateBuilder(options => options.OtlpEndpoint = "http://127.0.0.1:18889");
        var tracker = builder.AddProject("tracker", "../src/Testbed.Tracker").WithEndpoint("udp", "udp", "Tracker__Udp").WithHttpHealthCheck();
        var peers = builder.AddProject("peer", Probe).WithReplicas(3).WithReference(tracker).WaitFor(tracker).WithEnvironment("EXTRA", "1");
        builder.AddProject("chaos", Probe).WithReference(peers).WithReference(builder.ControlApi);
        await using var app = builder.Build();

        Assert.Equal(["tracker", "peer-1", "peer-2", "peer-3", "chaos"], app.Instances.Select(instance => instance.Name));
        var ports = app.Instances.SelectMany(instance => instance.Urls.Values).Select(url => url.Port).ToArray();
        Assert.Equal(ports.Length, ports.Distinct().Count());

        var trackerInstance = app.GetInstance("tracker");
        var trackerEnv = Env(app, "tracker");
        Assert.Equal($"127.0.0.1:{trackerInstance.Urls["udp"].Port}", trackerEnv["Tracker__Udp"]);
        Assert.Equal($"http://127.0.0.1:{trackerInstance.Urls["http"].Port}", trackerEnv["ASPNETCORE_URLS"]);

        var peer2 = Env(app, "peer-2");
        Assert.Equal($"http://127.0.0.1:{trackerInstance.Urls["http"].Port}", peer2["services__tracker__http__0"]);
        Assert.Equal($"udp://127.0.0.1:{trackerInstance.Urls["udp"].Port}", peer2["services__tracker__udp__0"]);
        Assert.Equal("peer", peer2["OTEL_SERVICE_NAME"]);
        Assert.Equal("service.instance.id=peer-2", peer2["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.Equal("http://127.0.0.1:18889", peer2["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("grpc", peer2["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal("1000", peer2["OTEL_BSP_SCHEDULE_DELAY"]);
        Assert.Equal("1000", peer2["OTEL_BLRP_SCHEDULE_DELAY"]);
        Assert.Equal("1000", peer2["OTEL_METRIC_EXPORT_INTERVAL"]);
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), peer2["TESTBED_PARENT_PID"]);
        Assert.Equal("peer-2", peer2["TESTBED_RESOURCE_NAME"]);
        Assert.Equal("1", peer2["EXTRA"]);

        var chaos = Env(app, "chaos");
        for (var index = 0; index < 3; index++)
        {
            Assert.Equal($"http://127.0.0.1:{app.GetInstance($"peer-{index + 1}").Urls["http"].Port}", chaos[$"services__peer__http__{index}"]);
        }

        Assert.Equal($"http://127.0.0.1:{app.GetInstance("peer-3").Urls["http"].Port}", chaos["services__peer-3__http__0"]);
        Assert.False(chaos.ContainsKey("services__tracker__http__0"));
    }

    [Fact]
    public async Task Without_an_OTLP_endpoint_children_get_no_exporter_endpoint()
    {
        var builder = DistributedTestbed.CreateBuilder();
        builder.AddProject("probe", Probe);
        await using var app = builder.Build();
        var env = Env(app, "probe");
        Assert.False(env.ContainsKey("OTEL_EXPORTER_OTLP_ENDPOINT"));
        Assert.Equal("probe", env["OTEL_SERVICE_NAME"]);
    }

    [Fact]
    public async Task Unknown_names_list_the_names_that_exist()
    {
        var builder = DistributedTestbed.CreateBuilder();
        builder.AddProject("probe", Probe).WithReplicas(2);
        await using var app = builder.Build();
        var error = Assert.Throws<UnknownResourceException>(() => app.GetInstance("nope"));
        Assert.Contains("probe-1, probe-2", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<UnknownResourceException>(() => app.GetInstance("probe"));
        Assert.Contains("has replicas", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<UnknownCommandException>(() => app.ExecuteCommandAsync("probe-1", "fly"));
    }

    private static Dictionary<string, string> Env(DistributedApplication app, string name)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in app.ChildEnvironment(app.GetInstance(name)))
        {
            env[key] = value;
        }

        return env;
    }
}
