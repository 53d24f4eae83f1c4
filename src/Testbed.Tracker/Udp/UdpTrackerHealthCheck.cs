using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Testbed.Tracker.Udp;

/// <summary>Ready once the UDP tracker's socket is bound.</summary>
public sealed class UdpTrackerHealthCheck(UdpTrackerServer server) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(server.LocalEndPoint is { } endpoint
            ? HealthCheckResult.Healthy($"UDP tracker on {endpoint}")
            : HealthCheckResult.Unhealthy("UDP tracker socket not bound"));
}
