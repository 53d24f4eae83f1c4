using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Testbed.Dashboard.Tests;

/// <summary>Synthetic peers' key metrics (hash rate, height, bytes up and down, connected peers) sent with the standard exporter.</summary>
internal static class SyntheticMetrics
{
    public static async Task SendAsync(Uri grpcEndpoint, int peers, int rounds)
    {
        var state = new double[peers, 5];
        var meters = new List<Meter>();
        var providers = new List<MeterProvider>();
        try
        {
            for (var p = 0; p < peers; p++)
            {
                var index = p;
                var meter = new Meter($"Synthetic.metrics.peer-{p + 1}.{Guid.NewGuid():N}");
                meter.CreateObservableGauge("testbed.miner.hash_rate", () => state[index, 0], "H/s");
                meter.CreateObservableGauge("testbed.chain.height", () => (long)state[index, 1]);
                meter.CreateObservableCounter("torrent.bytes.up", () => (long)state[index, 2], "By");
                meter.CreateObservableCounter("torrent.bytes.down", () => (long)state[index, 3], "By");
                meter.CreateObservableGauge("testbed.peers.connected", () => (long)state[index, 4]);
                meters.Add(meter);
                providers.Add(Sdk.CreateMeterProviderBuilder()
                    .AddMeter(meter.Name)
                    .ConfigureResource(r => r.AddService("peer", serviceInstanceId: $"peer-{p + 1}"))
                    .AddOtlpExporter((o, reader) =>
                    {
                        o.Protocol = OtlpExportProtocol.Grpc;
                        o.Endpoint = grpcEndpoint;
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 600_000;
                    })
                    .Build());
            }

            for (var round = 0; round < rounds; round++)
            {
                for (var p = 0; p < peers; p++)
                {
                    state[p, 0] = 1_000_000 + (p * 150_000) + (round % 3 * 40_000);
                    state[p, 1] = round / 2;
                    state[p, 2] += 1400 * (p + 1);
                    state[p, 3] += 1400 * (peers - p);
                    state[p, 4] = Math.Min(peers - 1, 1 + (round / 2));
                    Assert.True(providers[p].ForceFlush(30_000), "a metric exporter did not flush");
                }

                await Task.Delay(60);
            }
        }
        finally
        {
            providers.ForEach(provider => provider.Dispose());
            meters.ForEach(meter => meter.Dispose());
        }
    }
}
