using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Testbed.AppHost.Orchestration;
using Testbed.Testing;

namespace Testbed.IntegrationTests;

/// <summary>A test-built model with a second kind of resource: references, WaitFor order, and the harness failing fast.</summary>
[Collection(ProcessCollection.Name)]
public sealed class ReferenceAndFailureTests
{
    private const string Probe = "../tests/Testbed.ProbeService";
    private const string Tracker = "../src/Testbed.Tracker";

    [Fact]
    public async Task Referenced_endpoints_reach_the_children_and_service_discovery_resolves_them()
    {
        var builder = DistributedTestbed.CreateBuilder();
        var tracker = builder.AddProject("tracker", Tracker).WithEndpoint("udp", "udp", "Tracker__Udp").WithHttpHealthCheck();
        builder.AddProject("probe", Probe).WithReplicas(2).WithReference(tracker).WaitFor(tracker).WithHttpHealthCheck();
        await using var testbed = await DistributedTestbed.StartAsync(builder);

        using var probe1 = testbed.CreateHttpClient("probe-1");
        var env = await probe1.GetFromJsonAsync<Dictionary<string, string>>(new Uri("/env", UriKind.Relative));
        Assert.NotNull(env);
        Assert.Equal(testbed.GetResource("tracker").Urls["http"], env["services__tracker__http__0"]);
        Assert.Equal(testbed.GetResource("tracker").Urls["udp"], env["services__tracker__udp__0"]);
        Assert.Equal(testbed.GetResource("probe-1").Urls["http"], env["ASPNETCORE_URLS"]);
        Assert.Equal("probe", env["OTEL_SERVICE_NAME"]);
        Assert.Equal("service.instance.id=probe-1", env["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.Equal("1000", env["OTEL_BSP_SCHEDULE_DELAY"]);
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), env["TESTBED_PARENT_PID"]);
        Assert.False(env.ContainsKey("OTEL_EXPORTER_OTLP_ENDPOINT"));
        Assert.False(env.ContainsKey("Tracker__Udp"));

        // probe-2 calls http://tracker through Microsoft.Extensions.ServiceDiscovery.
        using var probe2 = testbed.CreateHttpClient("probe-2");
        using var call = await probe2.GetFromJsonAsync<JsonDocument>(new Uri("/call/tracker", UriKind.Relative));
        Assert.Equal(200, call!.RootElement.GetProperty("status").GetInt32());

        // WaitFor: no probe was launched before the tracker's first healthy probe.
        var trackerHealthy = testbed.App.GetInstance("tracker").Console.Tail(1000)
            .First(line => line.Stream == "system" && line.Text.StartsWith("healthy after", StringComparison.Ordinal)).Time;
        Assert.All(["probe-1", "probe-2"], name => Assert.True(testbed.GetResource(name).StartedAt >= trackerHealthy));

        // A replicated resource is reached by replica name; the group name gets a pointed error.
        var error = Assert.Throws<UnknownResourceException>(() => testbed.CreateHttpClient("probe"));
        Assert.Contains("probe-1, probe-2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shutdown_stops_users_before_what_they_use_and_each_one_gracefully()
    {
        var builder = DistributedTestbed.CreateBuilder();
        var tracker = builder.AddProject("tracker", Tracker).WithEndpoint("udp", "udp", "Tracker__Udp").WithHttpHealthCheck();
        var probes = builder.AddProject("probe", Probe).WithReplicas(2).WithReference(tracker).WaitFor(tracker).WithHttpHealthCheck();
        builder.AddProject("front", Probe).WithReference(probes).WithHttpHealthCheck();
        await using var testbed = await DistributedTestbed.StartAsync(builder);
        var events = new System.Collections.Concurrent.ConcurrentQueue<ResourceSnapshot>();
        testbed.App.ResourceChanged += events.Enqueue;

        await testbed.App.StopAsync();

        var order = events.ToArray();
        int First(string name, ResourceState state)
        {
            var index = Array.FindIndex(order, e => e.Name == name && e.State == state);
            Assert.True(index >= 0, $"no {state} event for {name}");
            return index;
        }

        Assert.All(testbed.Resources, resource =>
        {
            Assert.Equal(ResourceState.Exited, resource.State);
            Assert.Equal(0, resource.ExitCode);
        });
        // front uses the probes, the probes use the tracker.
        Assert.True(First("front", ResourceState.Exited) < First("probe-1", ResourceState.Stopping));
        Assert.True(First("front", ResourceState.Exited) < First("probe-2", ResourceState.Stopping));
        Assert.True(First("probe-1", ResourceState.Exited) < First("tracker", ResourceState.Stopping));
        Assert.True(First("probe-2", ResourceState.Exited) < First("tracker", ResourceState.Stopping));
    }

    [Fact]
    public async Task A_resource_that_exits_at_start_fails_the_start_at_once_with_its_console_tail()
    {
        var builder = DistributedTestbed.CreateBuilder();
        var crasher = builder.AddProject("crasher", Probe).WithEnvironment("PROBE_EXIT_CODE", "3").WithHttpHealthCheck();
        builder.AddProject("dependent", Probe).WaitFor(crasher).WithHttpHealthCheck();

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<ResourceFailedException>(() => DistributedTestbed.StartAsync(builder));
        // Far below the 60 s startup timeout: the exit is seen, not waited out.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Contains("exiting with code 3 as PROBE_EXIT_CODE asks", error.Message, StringComparison.Ordinal);
        Assert.Contains("exit code 3", error.Message, StringComparison.Ordinal);
        var crashed = Assert.Single(error.Failures, failure => failure.Name == "crasher");
        Assert.Equal(ResourceState.FailedToStart, crashed.State);
        var dependent = Assert.Single(error.Failures, failure => failure.Name == "dependent");
        Assert.Equal(ResourceState.FailedToStart, dependent.State);
        Assert.Contains("dependency 'crasher'", dependent.Message, StringComparison.Ordinal);
        Assert.Null(dependent.Pid);
    }

    [Fact]
    public async Task A_resource_that_never_becomes_healthy_fails_after_the_startup_timeout_and_is_killed()
    {
        var builder = DistributedTestbed.CreateBuilder(options => options.StartupTimeoutSeconds = 10);
        builder.AddProject("sick", Probe).WithEnvironment("PROBE_UNHEALTHY", "1").WithHttpHealthCheck();

        var error = await Assert.ThrowsAsync<ResourceFailedException>(() => DistributedTestbed.StartAsync(builder));

        Assert.Contains("did not answer GET /health with 2xx within 10 s", error.Message, StringComparison.Ordinal);
        // The console tail is in the message, and it says why: the service's own failing health check.
        Assert.Contains("Health check probe with status Unhealthy", error.Message, StringComparison.Ordinal);
        Assert.Equal(ResourceState.FailedToStart, Assert.Single(error.Failures).State);
        var exited = System.Text.RegularExpressions.Regex.Match(error.Message, @"process (\d+) exited with code 137");
        Assert.True(exited.Success, "the console tail records the kill");
        Assert.False(ProcessTable.IsAlive(int.Parse(exited.Groups[1].Value, CultureInfo.InvariantCulture)));
    }
}
