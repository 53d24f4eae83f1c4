using Microsoft.Extensions.Diagnostics.HealthChecks;
using Testbed.Contracts.Settings;
using Testbed.Peer.Faults;

namespace Testbed.Peer.Hosting;

/// <summary>Registers the peer with the host: settings, the node, its readiness check.</summary>
public static class PeerHostingExtensions
{
    /// <summary>Adds the peer node (a hosted service) and the `peer-ready` health check.</summary>
    public static WebApplicationBuilder AddPeer(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<PeerOptions>(builder.Configuration.GetSection(PeerSettings.Section));
        builder.Services.AddSingleton<FaultState>();
        builder.Services.AddSingleton<PeerNode>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PeerNode>());
        builder.Services.AddHealthChecks().AddCheck<PeerReadyCheck>("peer-ready");
        return builder;
    }
}

/// <summary>Healthy once the peer has joined and run a first catch-up pass.</summary>
public sealed class PeerReadyCheck(PeerNode node) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(node.IsReady ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("the peer is still starting"));
}
