using Testbed.AppHost.Headless;
using Testbed.AppHost.Model;

// `scenario ...` is a headless verb; anything else runs the testbed in Aspire.
if (HeadlessCommandLine.Handles(args))
{
    return await HeadlessCommandLine.RunAsync(args);
}

var builder = DistributedApplication.CreateBuilder(args);
if (TestbedSettings.TryRead(builder.Configuration, TestbedModel.ScenariosFileOf(builder), out var settings, out var error) is false)
{
    await Console.Error.WriteLineAsync($"error: {error}");
    return 2;
}

var testbed = new TestbedModel(builder, settings);
var tracker = testbed.AddTracker();
var peers = testbed.AddPeers(tracker);
// The inspector reads the Aspire dashboard's telemetry API; without a dashboard (tests, headless) there is nothing to inspect.
if (testbed.HasDashboard)
{
    testbed.AddInspector();
}

testbed.AddChaos(tracker, peers);

await builder.Build().RunAsync();
return 0;
