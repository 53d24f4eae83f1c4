using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Testbed.Contracts.Settings;
using Testbed.Tracker.Hosting;

namespace Testbed.Tracker.Tests;

/// <summary>The real tracker (Kestrel + UDP socket) on loopback with ports picked by the OS.</summary>
internal sealed class TrackerServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TrackerServer(WebApplication app, Uri http, IPEndPoint udp)
    {
        _app = app;
        Http = http;
        Udp = udp;
    }

    public Uri Http { get; }

    public IPEndPoint Udp { get; }

    public Uri AnnounceUrl => new(Http, "/announce");

    public string UdpAnnounceUrl => $"udp://{Udp}/announce";

    public SwarmStore Store => _app.Services.GetRequiredService<SwarmStore>();

    public static async Task<TrackerServer> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [TrackerSettings.Udp.Key] = "127.0.0.1:0",
            [TrackerSettings.Interval.Key] = "30",
            [TrackerSettings.MinInterval.Key] = "5",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddTracker();
        var app = builder.Build();
        app.MapTracker();
        app.MapHealthChecks("/health");
        await app.StartAsync();
        var http = new Uri(app.Urls.First());
        var udp = app.Services.GetRequiredService<UdpTrackerServer>().LocalEndPoint!;
        return new TrackerServer(app, http, udp);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
