using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Trace;
using Testbed.Tracker.Announces;
using Testbed.Tracker.Http;
using Testbed.Tracker.Swarms;
using Testbed.Tracker.Telemetry;
using Testbed.Tracker.Udp;

namespace Testbed.Tracker.Hosting;

/// <summary>Wires the tracker into any ASP.NET Core host: the service's Program.cs and `testbed tracker` both use it.</summary>
public static class TrackerHostingExtensions
{
    /// <summary>
    /// Registers the swarm store, the announce service, the expiry sweeper and, when `Tracker:Udp`
    /// is set, the UDP tracker. The HTTP address comes from the host (ASPNETCORE_URLS, --urls).
    /// </summary>
    public static TBuilder AddTracker<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = TrackerOptions.Read(builder.Configuration);

        // Per-request "Request starting/finished" logs would cost more than an announce itself.
        if (builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] is null)
        {
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        }

        var services = builder.Services;
        services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Trackers speak HTTP/1.x; skipping the HTTP/2 preface check saves work on every new connection.
            kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http1);
        });
        if (options.InlineSocketCompletions)
        {
            services.Configure<SocketTransportOptions>(sockets => sockets.UnsafePreferInlineScheduling = true);
        }

        // Root announce spans at a ratio (the service's only sampler; every other span as the SDK's default would).
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.SetSampler(new AnnounceSpanSampler(options.AnnounceSpanSampleRatio)));
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new SwarmStore(
            new SwarmLimits(options.MaxTorrents, options.MaxPeersPerTorrent, options.MaxPeers, TimeSpan.FromSeconds(options.EffectivePeerTimeout)),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(AnnouncePolicy.From(options));
        services.AddSingleton<AnnounceService>();
        services.AddSingleton(sp => new ConnectionIds(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<UdpPacketHandler>();
        services.AddSingleton<HttpAnnounceHandler>();
        if (options.FastHttp)
        {
            // Registered after Kestrel's socket transport, so Kestrel binds through it.
            services.AddSingleton<IConnectionListenerFactory, AnnounceListenerFactory>();
        }

        services.AddHostedService<SwarmSweeper>();

        if (!string.IsNullOrWhiteSpace(options.Udp))
        {
            var endpoint = HostPort.Parse(options.Udp);
            services.AddSingleton(sp => new UdpTrackerServer(
                endpoint,
                sp.GetRequiredService<UdpPacketHandler>(),
                options.UdpReceiveLoops,
                options.MaxNumWant,
                sp.GetRequiredService<ILogger<UdpTrackerServer>>()));
            services.AddHostedService(sp => sp.GetRequiredService<UdpTrackerServer>());
            // Readiness (/health) includes the UDP socket being bound, so an orchestrator waits for both transports.
            services.AddHealthChecks().Add(new HealthCheckRegistration(
                "udp-tracker",
                sp => new UdpTrackerHealthCheck(sp.GetRequiredService<UdpTrackerServer>()),
                failureStatus: null,
                tags: null));
        }

        return builder;
    }

    /// <summary>Maps `/announce` and `/scrape`.</summary>
    public static WebApplication MapTracker(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapTrackerHttp();
        return app;
    }
}
