using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Testbed.AppHost.Model;

namespace Testbed.AppHost.Headless;

/// <summary>
/// The app model run inside this process for a headless verb: no dashboard, Aspire's own logging quiet, every wait bounded.
/// Disposing it stops every resource.
/// </summary>
public sealed class HeadlessTestbed : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private HeadlessTestbed(DistributedApplication app, TestbedModel? model)
    {
        App = app;
        Model = model;
    }

    /// <summary>The running app.</summary>
    public DistributedApplication App { get; }

    /// <summary>The testbed model it runs, or null for another model (the plain one of bench startup).</summary>
    public TestbedModel? Model { get; }

    /// <summary>A builder for a headless run; <paramref name="args"/> are the AppHost's configuration arguments.</summary>
    public static IDistributedApplicationBuilder CreateBuilder(params string[] args) =>
        DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            Args = [.. args, "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Aspire.Hosting.Dcp=Error"],
            DisableDashboard = true,
            AllowUnsecuredTransport = true,
            AssemblyName = typeof(HeadlessTestbed).Assembly.GetName().Name,
        });

    /// <summary>Builds and starts the app, then waits until every resource is healthy; fails naming the one that is not.</summary>
    public static async Task<HeadlessTestbed> StartAsync(IDistributedApplicationBuilder builder, TestbedModel? model, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var app = builder.Build();
        var testbed = new HeadlessTestbed(app, model);
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(timeout);
            await app.StartAsync(bounded.Token).ConfigureAwait(false);
            var notifications = app.Services.GetRequiredService<ResourceNotificationService>();
            var resources = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>().Select(r => r.Name).ToList();
            foreach (var name in resources)
            {
                try
                {
                    await notifications.WaitForResourceHealthyAsync(name, bounded.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    var state = model?.Control.Resource(name);
                    throw new TimeoutException($"{name} was not healthy within {timeout.TotalSeconds:0} s (state {state?.State ?? "unknown"}, health {state?.Health ?? "unknown"})");
                }
            }

            return testbed;
        }
        catch
        {
            await testbed.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The base URL of <paramref name="resource"/>'s http endpoint.</summary>
    public Uri Url(IResourceBuilder<ProjectResource> resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return new Uri(resource.GetEndpoint("http").Url.TrimEnd('/') + "/");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await App.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Disposal below still ends DCP, which ends every process it started.
        }

        await App.DisposeAsync().ConfigureAwait(false);
    }
}
