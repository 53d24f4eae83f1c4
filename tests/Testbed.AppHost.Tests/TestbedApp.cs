using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Testbed.AppHost.Tests;

/// <summary>
/// The AppHost's own app model started through Aspire.Hosting.Testing, with a bound on every wait (upstream has reports
/// of waits and disposal that hang). Disposing it stops every process it started, also when the test failed.
/// </summary>
internal sealed class TestbedApp : IAsyncDisposable
{
    /// <summary>How long start-up to all healthy may take on a loaded 2-core machine.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);
    private readonly ITestOutputHelper? _output;

    private TestbedApp(DistributedApplication app, ITestOutputHelper? output)
    {
        App = app;
        _output = output;
    }

    /// <summary>The running app.</summary>
    public DistributedApplication App { get; }

    /// <summary>Builds and starts the AppHost with <paramref name="args"/>, then waits until <paramref name="healthy"/> are healthy.</summary>
    public static async Task<TestbedApp> StartAsync(string[] args, IReadOnlyList<string> healthy, ITestOutputHelper? output, bool dashboard = false)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            args,
            (options, _) => options.DisableDashboard = !dashboard,
            timeout.Token);
        var app = await builder.BuildAsync(timeout.Token);
        var testbed = new TestbedApp(app, output);
        try
        {
            await app.StartAsync(timeout.Token);
            foreach (var name in healthy)
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
            }

            return testbed;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            await testbed.DisposeAsync();
            throw new TimeoutException($"the testbed was not healthy within {StartTimeout.TotalSeconds:0} s ({string.Join(", ", healthy)})");
        }
        catch
        {
            await testbed.DisposeAsync();
            throw;
        }
    }

    /// <summary>The base URL of <paramref name="resource"/>'s http endpoint.</summary>
    public Uri Url(string resource) => new(App.GetEndpoint(resource, "http").ToString().TrimEnd('/') + "/");

    /// <summary>The latest snapshot of <paramref name="resource"/>.</summary>
    public async Task<CustomResourceSnapshot> SnapshotAsync(string resource)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return (await App.ResourceNotifications.WaitForResourceAsync(resource, _ => true, timeout.Token)).Snapshot;
    }

    /// <summary>Waits until <paramref name="resource"/>'s state is <paramref name="state"/>, at most <paramref name="within"/>.</summary>
    public async Task WaitForStateAsync(string resource, string state, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await App.ResourceNotifications.WaitForResourceAsync(resource, e => e.Snapshot.State?.Text == state, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{resource} did not reach {state} within {within.TotalSeconds:0} s");
        }
    }

    /// <summary>Runs a resource command, bounded by <paramref name="within"/>.</summary>
    public async Task<ExecuteCommandResult> CommandAsync(string resource, string command, TimeSpan within, InteractionInputCollection? arguments = null)
    {
        using var timeout = new CancellationTokenSource(within);
        var target = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == resource);
        var result = arguments is null
            ? await App.ResourceCommands.ExecuteCommandAsync(target, command, timeout.Token)
            : await App.ResourceCommands.ExecuteCommandAsync(target, command, arguments, timeout.Token);
        _output?.WriteLine($"{resource} {command}: {(result.Success ? "ok" : "FAILED")} {result.Message}");
        return result;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await App.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _output?.WriteLine($"the app did not stop within {StopTimeout.TotalSeconds:0} s; disposing it ends DCP and its processes");
        }

        await App.DisposeAsync();
    }
}
