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
            // A service is probed until healthy; the failed probes before that are no news (a wait that ends names the resource).
            Args = [.. args, "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Aspire.Hosting.Dcp=Error", "--Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=None"],
            DisableDashboard = true,
            AllowUnsecuredTransport = true,
            AssemblyName = typeof(HeadlessTestbed).Assembly.GetName().Name,
        });

    /// <summary>
    /// Builds and starts the app, then waits until every resource is healthy, except those added with
    /// <c>WithExplicitStart()</c>, which wait for <see cref="StartResourceAsync"/>; fails naming the one that is not.
    /// </summary>
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
            var resources = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>()
                .Where(r => !r.HasAnnotationOfType<ExplicitStartupAnnotation>());
            foreach (var resource in resources)
            {
                await testbed.WaitHealthyAsync(resource, timeout, bounded.Token, cancellationToken).ConfigureAwait(false);
            }

            return testbed;
        }
        catch
        {
            await testbed.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts a resource added with <c>WithExplicitStart()</c> (Aspire's start command); fails with the command's error.</summary>
    public Task StartResourceAsync(IResourceBuilder<ProjectResource> resource, CancellationToken cancellationToken) =>
        ExecuteAsync(resource, KnownResourceCommands.StartCommand, "start", cancellationToken);

    /// <summary>Stops a resource (Aspire's stop command); fails with the command's error.</summary>
    public Task StopResourceAsync(IResourceBuilder<ProjectResource> resource, CancellationToken cancellationToken) =>
        ExecuteAsync(resource, KnownResourceCommands.StopCommand, "stop", cancellationToken);

    private async Task ExecuteAsync(IResourceBuilder<ProjectResource> resource, string command, string verb, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var result = await App.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync(resource.Resource, command, cancellationToken).ConfigureAwait(false);
        if (!result.Success)
        {
            throw new InvalidOperationException($"{resource.Resource.Name} did not {verb}: {result.Message}");
        }
    }

    /// <summary>Waits until <paramref name="resource"/> is healthy; a <see cref="TimeoutException"/> names its state after <paramref name="timeout"/>.</summary>
    public async Task WaitHealthyAsync(IResource resource, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        await WaitHealthyAsync(resource, timeout, bounded.Token, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until healthy or <paramref name="bounded"/> ends; <paramref name="timeout"/> is the bound the error names.</summary>
    private async Task WaitHealthyAsync(IResource resource, TimeSpan timeout, CancellationToken bounded, CancellationToken cancellationToken)
    {
        try
        {
            await App.Services.GetRequiredService<ResourceNotificationService>().WaitForResourceHealthyAsync(resource.Name, bounded).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var state = Model?.Control.Resource(resource.Name);
            throw new TimeoutException($"{resource.Name} was not healthy within {timeout.TotalSeconds:0} s (state {state?.State ?? "unknown"}, health {state?.Health ?? "unknown"})");
        }
    }

    /// <summary>The base URL of <paramref name="resource"/>'s http endpoint.</summary>
    public Uri Url(IResourceBuilder<ProjectResource> resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return new Uri(resource.GetEndpoint("http").Url.TrimEnd('/') + "/");
    }

    /// <summary>Every process the app's project resources run now (DCP's <c>dotnet run</c> and the service under it).</summary>
    public async Task<IReadOnlyList<int>> ProcessIdsAsync(CancellationToken cancellationToken)
    {
        var pids = new List<int>();
        foreach (var project in App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>())
        {
            var state = await App.ResourceNotifications.WaitForResourceAsync(project.Name, _ => true, cancellationToken).ConfigureAwait(false);
            if (Control.ResourceControl.Pid(state.Snapshot) is { } root)
            {
                pids.Add(root);
                pids.AddRange(Control.ProcessTree.Descendants(root));
            }
        }

        return pids;
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
