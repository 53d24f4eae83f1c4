using System.Globalization;
using Testbed.AppHost.AppModel;
using Testbed.AppHost.Orchestration;
using Testbed.Chaos.Cli;
using Testbed.Chaos.Proxy;
using Testbed.Chaos.Scenarios;

namespace Testbed.AppHost.Cli;

/// <summary>
/// The testbed one <c>scenario run</c> needs: the app model's tracker and peers with the scenario's topology, a fresh data
/// root and a free control port. No chaos resource: the scenario command drives the faults itself.
/// </summary>
internal sealed class ScenarioTestbed : IScenarioTestbed
{
    private readonly DistributedApplication _app;
    private readonly DirectoryInfo _dataRoot;

    private ScenarioTestbed(DistributedApplication app, DirectoryInfo dataRoot)
    {
        _app = app;
        _dataRoot = dataRoot;
    }

    public Uri ControlApiUrl => _app.ControlApiUrl ?? throw new InvalidOperationException("The scenario testbed has no control API.");

    /// <summary>Builds the services if needed and starts tracker and peers; fails naming the resource that did not start.</summary>
    public static async Task<IScenarioTestbed> StartAsync(AppHostOptions options, Topology topology, LoopbackPlan plan, CancellationToken cancellationToken)
    {
        options.Peers = topology.Peers;
        options.ControlApiPort = 0;
        var dataRoot = Directory.CreateTempSubdirectory("testbed-scenario-");
        var builder = DistributedApplicationBuilder.Create(options);
        var tracker = TestbedAppModel.AddTracker(builder);
        TestbedAppModel.AddPeers(builder, tracker, topology.Peers, plan)
            .WithEnvironment("Testbed__DataRoot", dataRoot.FullName)
            .WithEnvironment("Testbed__DifficultyBits", topology.DifficultyBits.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("Testbed__Mining__Enabled", "false")
            .WithEnvironment("Testbed__Mining__IntervalMs", ((int)topology.MiningInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));

        var app = builder.Build();
        try
        {
            var resources = await app.StartAsync(cancellationToken);
            if (resources.FirstOrDefault(r => r.State is not ResourceState.Running) is { } failed)
            {
                throw new InvalidOperationException(
                    $"{failed.Name} is {failed.State}: {failed.Message}{Environment.NewLine}{app.GetInstance(failed.Name).Console.TailText(15)}");
            }

            return new ScenarioTestbed(app, dataRoot);
        }
        catch
        {
            await app.DisposeAsync();
            dataRoot.Delete(recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        try
        {
            _dataRoot.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A killed peer may still hold a file for a moment; the temp folder is the OS's to clean then.
        }
    }
}
