using Xunit.Abstractions;
using System.Globalization;
using Testbed.Chaos.Execution;
using Testbed.Chaos.Proxy;
using Testbed.Chaos.Scenarios;
using Testbed.Testing;

namespace Testbed.Chaos.IntegrationTests;

/// <summary>Starts the testbed a scenario's topology asks for (tracker and peer processes) through the harness, and runs the scenario against it.</summary>
internal static class ScenarioTestbed
{
    /// <summary>Starts tracker + N peers with the scenario's difficulty, fault hooks on, a fresh data directory per run; runs the scenario.</summary>
    public static async Task<RunReport> RunAsync(Scenario scenario, ITestOutputHelper output, CancellationToken cancellationToken = default)
    {
        var dataRoot = Directory.CreateTempSubdirectory("chaos-run-");
        var plan = LoopbackPlan.CreateRandom();
        var controlPort = FreePort();
        using var control = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri($"http://127.0.0.1:{controlPort}/"), Timeout = TimeSpan.FromMinutes(2) };
        using var peers = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromMinutes(3) };
        var controlApi = new ControlApiClient(control);
        var directory = new PeerDirectory();
        await using var proxy = new FaultProxy(new LinkTable()) { Directory = directory };
        // Peers announce through the front, which hands out the proxy's addresses (the peers bind no address of their own).
        await using var front = await TrackerFront.StartAsync(proxy, directory, async ct =>
        {
            var tracker = (await controlApi.GetResourcesAsync(ct)).FirstOrDefault(r => r.Name == "tracker");
            return tracker?.Urls is { } urls && urls.TryGetValue("http", out var url) ? new Uri(url.TrimEnd('/') + "/") : null;
        }, cancellationToken);
        try
        {
            var builder = DistributedTestbed.CreateBuilder(options =>
            {
                options.Peers = scenario.Topology.Peers;
                options.StartupTimeoutSeconds = 120;
                options.ControlApiPort = controlPort;
            });
            // Only scenarios with network faults route the peers through the front and the proxy; the others let them talk directly.
            var network = scenario.Steps.Any(step => step is PartitionStep or ToxicStep);
            Define(builder, scenario.Topology, dataRoot.FullName, plan, network ? front.Url : null);
            await using var testbed = await DistributedTestbed.StartAsync(builder, cancellationToken);
            var executor = new ScenarioExecutor(new ScenarioEnvironment(controlApi, new PeerApiClient(peers), network ? proxy : null, plan)
            {
                PeersShareLoopback = true,
                Directory = directory,
            });
            executor.StepFinished += step => output.WriteLine($"{step.Ended:HH:mm:ss.fff} step {step.Index} {step.Kind} [{string.Join(",", step.Targets)}] {(step.Ok ? "ok" : "FAILED")}: {step.Detail}");
            var report = await executor.RunAsync(scenario, cancellationToken);
            foreach (var invariant in report.Invariants)
            {
                output.WriteLine($"invariant {invariant.Name}: {(invariant.Ok ? "held" : "VIOLATED")}: {invariant.Detail}");
            }

            output.WriteLine($"{scenario.Name}: {(report.Passed ? "passed" : "FAILED")} in {report.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s{(report.Error is null ? "" : ": " + report.Error)}");
            if (!report.Passed)
            {
                foreach (var resource in testbed.Resources)
                {
                    output.WriteLine($"--- {resource.Name} ({resource.State}) console tail:");
                    output.WriteLine(testbed.ConsoleTail(resource.Name, 15));
                }
            }

            return report;
        }
        finally
        {
            try
            {
                dataRoot.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A killed peer may still be releasing files; the temp directory is cleaned by the OS later.
            }
        }
    }

    private static int FreePort() => Testbed.AppHost.Orchestration.PortAllocator.FreeLoopbackPort(udp: false);

    /// <summary>The scenario's app model: the AppHost's tracker line and the peer line with the scenario's settings.</summary>
    public static void Define(Testbed.AppHost.AppModel.DistributedApplicationBuilder builder, Topology topology, string dataRoot, LoopbackPlan plan, Uri? trackerFront = null)
    {
        var tracker = builder.AddProject("tracker", "../src/Testbed.Tracker")
            .WithEndpoint("udp", "udp", environmentVariable: "Tracker__Udp")
            .WithEnvironment("Tracker__AllowClientIp", "true")
            .WithHttpHealthCheck("/health");
        builder.AddProject("peer", "../src/Testbed.Peer")
            .WithReplicas(topology.Peers)
            .WithReference(tracker)
            .WaitFor(tracker)
            .WithHttpHealthCheck("/health")
            // Each peer's data directory is DataRoot/peer-N: a fresh root gives every run fresh chains and wallets.
            .WithEnvironment("Testbed__DataRoot", dataRoot)
            .WithEnvironment("Testbed__DifficultyBits", topology.DifficultyBits.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("Testbed__Mining__IntervalMs", ((int)topology.MiningInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("Testbed__Faults__Enabled", "true")
            .WithEnvironment("Testbed__AnnounceIntervalSeconds", "2")
            .WithEnvironment("Testbed__SegmentBlocks", "8")
            .WithEnvironment("Testbed__DownloadTimeoutSeconds", "10")
            // For the fault proxy (see the chaos README part): peer-N binds 127.A.B.N and advertises 127.A.(B+1).N.
            .WithEnvironment("Testbed__BindAddress", $"127.{plan.A}.{plan.B}.{{replica}}")
            .WithEnvironment("Testbed__AdvertiseAddress", $"127.{plan.A}.{plan.B + 1}.{{replica}}")
            .WithEnvironment("Testbed__TrackerUrl", trackerFront?.ToString() ?? "");
    }
}
