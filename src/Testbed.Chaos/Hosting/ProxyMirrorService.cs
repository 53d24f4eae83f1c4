using Testbed.Chaos.Execution;
using Testbed.Chaos.Proxy;

namespace Testbed.Chaos.Hosting;

/// <summary>
/// Keeps the fault proxy in front of the AppHost's peers between scenario runs: registers peer-N (from
/// <c>services:peer-N:http:0</c>) at the loopback plan's addresses and mirrors the ports each peer reports in /status,
/// so peers that advertise their public addresses can reach each other at all. Idle without a plan. Its once-a-second
/// /status reads are polls (<see cref="TelemetryPolls"/>, through <see cref="PeerApiClient.GetStatusAsync"/>): no traces.
/// </summary>
public sealed class ProxyMirrorService(ChaosOptions options, FaultProxy proxy, IConfiguration configuration, ILogger<ProxyMirrorService> logger) : BackgroundService
{
    /// <summary>Most peers looked up in configuration.</summary>
    public const int MaxPeers = 64;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.ParsePlan() is not { } plan)
        {
            return;
        }

        var peers = new List<(string Name, Uri Url)>();
        for (var i = 1; i <= MaxPeers; i++)
        {
            if (configuration[$"services:peer-{i}:http:0"] is { } url)
            {
                peers.Add(($"peer-{i}", new Uri(url.TrimEnd('/') + "/")));
                proxy.AddNode(plan.Node($"peer-{i}", i));
            }
        }

        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(3) };
        var client = new PeerApiClient(http);
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var (name, url) in peers)
            {
                try
                {
                    var status = await client.GetStatusAsync(url, stoppingToken).ConfigureAwait(false);
                    proxy.MirrorListeners(name, status.SwarmListener(), status.TorrentListener());
                }
                catch (Exception e) when (e is HttpRequestException or ChaosStepException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
                {
                    logger.LogDebug("proxy mirror: {Peer} not reachable yet: {Error}", name, e.Message);
                }
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
