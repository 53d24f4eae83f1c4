using Testbed.AppHost;
using Testbed.AppHost.Cli;

// `dotnet run --project AppHost [-- --peers N]` runs the testbed; `-- bench startup [--json]` measures it.
return await AppHostCommandLine.RunAsync(args, TestbedAppModel.Define);

// A block namespace: C# allows no file-scoped namespace in a file with top-level statements.
namespace Testbed.AppHost
{
    using Testbed.AppHost.AppModel;
    using Testbed.Chaos.Proxy;

    /// <summary>The testbed's app model, read like an Aspire AppHost; the test harness starts the same model.</summary>
    public static class TestbedAppModel
    {
        /// <summary>Adds the testbed's resources to <paramref name="builder"/>.</summary>
        public static void Define(DistributedApplicationBuilder builder)
        {
            ArgumentNullException.ThrowIfNull(builder);

            var tracker = AddTracker(builder);
            var plan = LoopbackPlan.CreateRandom();
            var peers = AddPeers(builder, tracker, builder.Options.Peers, plan)
                // Every AppHost run gets fresh chains and wallets; two runs never share a data directory.
                .WithEnvironment("Testbed__DataRoot", Path.Combine(Path.GetTempPath(), "testbed-peers", $"run-{Guid.NewGuid():n}"));
            if (builder.Options.DifficultyBits is { } bits)
            {
                peers.WithEnvironment("Testbed__DifficultyBits", bits.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            builder.AddProject("chaos", "../src/Testbed.Chaos")
                .WithReference(builder.ControlApi).WithReference(peers).WithReference(tracker).WaitFor(tracker)
                .WithEnvironment("Chaos__LoopbackPlan", $"127.{plan.A}.{plan.B}")
                .WithHttpHealthCheck("/health");
            // The dashboard is not a resource: the AppHost hosts it in-process (Cli/RunCommand.cs), as Aspire does.
        }

        /// <summary>The tracker: HTTP and UDP announce; it takes a peer's advertised address (the chaos proxy's plan).</summary>
        public static ProjectResourceBuilder AddTracker(DistributedApplicationBuilder builder) =>
            builder.AddProject("tracker", "../src/Testbed.Tracker")
                .WithEndpoint("udp", "udp", environmentVariable: "Tracker__Udp")
                .WithEnvironment("Tracker__AllowClientIp", "true")
                .WithHttpHealthCheck("/health");

        /// <summary>
        /// The peers <c>peer-1..peer-N</c>, with their fault hooks on so the chaos controller can reach them, behind the
        /// fault proxy of <paramref name="plan"/>: peer-N binds 127.A.B.N and advertises 127.A.(B+1).N (docs/chaos.md).
        /// </summary>
        public static ProjectResourceBuilder AddPeers(DistributedApplicationBuilder builder, ProjectResourceBuilder tracker, int replicas, LoopbackPlan plan) =>
            builder.AddProject("peer", "../src/Testbed.Peer")
                .WithReplicas(replicas)
                .WithReference(tracker)
                .WaitFor(tracker)
                .WithEnvironment("Testbed__Faults__Enabled", "true")
                .WithEnvironment("Testbed__BindAddress", $"127.{plan.A}.{plan.B}.{{replica}}")
                .WithEnvironment("Testbed__AdvertiseAddress", $"127.{plan.A}.{plan.B + 1}.{{replica}}")
                .WithHttpHealthCheck("/health");
    }
}
