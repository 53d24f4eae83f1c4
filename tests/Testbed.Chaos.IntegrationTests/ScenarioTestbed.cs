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
        // Every peer-to-peer connection goes through the proxy, as under the AppHost's chaos service.
        await using var proxy = new FaultProxy(new LinkTable());
        try
        {
            var builder = DistributedTestbed.CreateBuilder(options =>
            {
                options.Peers = scenario.Topology.Peers;
                options.StartupTimeoutSeconds = 120;
                options.ControlApiPort = controlPort;
            });
            Define(builder, scenario.Topology, dataRoot.FullName, plan);
            await using var testbed = await DistributedTestbed.StartAsync(builder, cancellationToken);
            var executor = new ScenarioExecutor(new ScenarioEnvironment(new ControlApiClient(control), new PeerApiClient(peers), proxy, plan));
            executor.StepFinished += step => output.WriteLine($"{step.Ended:HH:mm:ss.fff} step {step.Index} {step.Kind} [{string.Join(",", step.Targets)}] {(step.Ok ? "ok" : "FAILED")}: {step.Detail}");
            var report = await executor.RunAsync(scenario, cancellationToken);
            foreach (var invariant in report.Invariants)
            {
                output.WriteLine($"invariant {invariant.Name}: {(invariant.Ok ? "held" : "VIOLATED")}: {invariant.Detail}");
            }

            output.WriteLine($"{scenario.Name}: {(report.Passed ? "passed" : "FAILED")} in {report.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s{(report.Error is null ? "" : ": " + report.Error)}");
            if (!report.Passed)
            {
                foreach (var c in proxy.Connections)
                {
                    output.WriteLine($"proxy connection {c.Source}->{c.Destination}:{c.Port} fwd {c.BytesForward} back {c.BytesBackward} opened {c.OpenedAt:HH:mm:ss.fff}");
                }

                foreach (var resource in testbed.Resources)
                {
                    output.WriteLine($"--- {resource.Name} ({resource.State}) console tail:");
                    output.WriteLine(testbed.ConsoleTail(resource.Name, 40));
                    if (resource.State == Testbed.AppHost.Orchestration.ResourceState.Running && resource.Name.StartsWith("peer-", StringComparison.Ordinal))
                    {
                        output.WriteLine($"--- {resource.Name} /status: {await StatusTextAsync(peers, testbed.GetEndpoint(resource.Name))}");
                    }
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

    private static async Task<string> StatusTextAsync(HttpClient http, Uri peer)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            return await http.GetStringAsync(new Uri(peer, "status"), timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return "unavailable: " + e.Message;
        }
    }

    private static int FreePort() => Testbed.AppHost.Orchestration.PortAllocator.FreeLoopbackPort(udp: false);

    /// <summary>The scenario's app model: the AppHost's tracker and peers, with the scenario's settings.</summary>
    public static void Define(Testbed.AppHost.AppModel.DistributedApplicationBuilder builder, Topology topology, string dataRoot, LoopbackPlan plan)
    {
        var tracker = Testbed.AppHost.TestbedAppModel.AddTracker(builder);
        Testbed.AppHost.TestbedAppModel.AddPeers(builder, tracker, topology.Peers, plan)
            // Each peer's data directory is DataRoot/peer-N: a fresh root gives every run fresh chains and wallets.
            .WithEnvironment("Testbed__DataRoot", dataRoot)
            .WithEnvironment("Testbed__DifficultyBits", topology.DifficultyBits.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("Testbed__Mining__IntervalMs", ((int)topology.MiningInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("Testbed__AnnounceIntervalSeconds", "2")
            .WithEnvironment("Testbed__SegmentBlocks", "8")
            .WithEnvironment("Testbed__DownloadTimeoutSeconds", "10");
    }
}
