using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Testbed.Contracts.Settings;
using Testbed.Tracker.Hosting;

namespace Testbed.Tracker.Tests;

/// <summary>The real tracker (Kestrel + UDP socket) on loopback with ports picked by the OS.</summary>
internal sealed class TrackerServer(WebApplication app) : IAsyncDisposable
{
    public Uri Http { get; } = new(app.Urls.First());

    public IPEndPoint Udp { get; } = app.Services.GetRequiredService<UdpTrackerServer>().LocalEndPoint!;

    public Uri AnnounceUrl => new(Http, "/announce");

    public string UdpAnnounceUrl => $"udp://{Udp}/announce";

    public SwarmStore Store => app.Services.GetRequiredService<SwarmStore>();

    /// <summary>The tracker alone (short test intervals, a /health check), <paramref name="settings"/> over its defaults.</summary>
    public static async Task<TrackerServer> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var builder = Builder(WebApplication.CreateBuilder(), new Dictionary<string, string?>
        {
            [TrackerSettings.Interval.Key] = "30",
            [TrackerSettings.MinInterval.Key] = "5",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.AddTracker();
        var app = builder.Build();
        app.MapTracker();
        app.MapHealthChecks("/health");
        await app.StartAsync();
        return new TrackerServer(app);
    }

    /// <summary>The tracker service exactly as its Program.cs builds it (production environment, service defaults included).</summary>
    public static async Task<TrackerServer> StartServiceAsync()
    {
        var builder = Builder(WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production }), []);
        builder.AddServiceDefaults();
        builder.AddTracker();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapTracker();
        await app.StartAsync();
        return new TrackerServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StopAsync(timeout.Token);
        await app.DisposeAsync();
    }

    // Loopback ports the OS picks (HTTP and UDP), no log output, and the given settings.
    private static WebApplicationBuilder Builder(WebApplicationBuilder builder, Dictionary<string, string?> settings)
    {
        settings[TrackerSettings.Udp.Key] = "127.0.0.1:0";
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        return builder;
    }
}
