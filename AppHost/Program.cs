using Testbed.AppHost;
using Testbed.AppHost.Cli;

// `dotnet run --project AppHost [-- --peers N]` runs the testbed; `-- bench startup [--json]` measures it.
return await AppHostCommandLine.RunAsync(args, TestbedAppModel.Define);

// A block namespace: C# allows no file-scoped namespace in a file with top-level statements.
namespace Testbed.AppHost
{
    using Testbed.AppHost.AppModel;

    /// <summary>The testbed's app model, read like an Aspire AppHost; the test harness starts the same model.</summary>
    public static class TestbedAppModel
    {
        /// <summary>Adds the testbed's resources to <paramref name="builder"/>.</summary>
        public static void Define(DistributedApplicationBuilder builder)
        {
            ArgumentNullException.ThrowIfNull(builder);

            var tracker = builder.AddProject("tracker", "../src/Testbed.Tracker")
                .WithEndpoint("udp", "udp", environmentVariable: "Tracker__Udp")
                .WithHttpHealthCheck("/health");

            // One line per service as it lands (their projects do not exist yet, so they are not added):
            var peers = builder.AddProject("peer", "../src/Testbed.Peer").WithReplicas(builder.Options.Peers).WithReference(tracker).WaitFor(tracker).WithHttpHealthCheck("/health").WithEnvironment("Testbed__DataRoot", Path.Combine(Path.GetTempPath(), "testbed-peers", $"run-{Guid.NewGuid():n}"));
            // issue 11: builder.AddProject("chaos", "../src/Testbed.Chaos").WithReference(builder.ControlApi).WithReference(peers).WithReference(tracker).WaitFor(tracker).WithHttpHealthCheck("/health");
            // The dashboard is not a resource: the AppHost hosts it in-process (Cli/RunCommand.cs), as Aspire does.
        }
    }
}
