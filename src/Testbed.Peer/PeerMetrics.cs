using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Testbed.Peer;

/// <summary>
/// The peer's own instruments on the Meter "Testbed.Peer", read by the dashboard's metrics view per peer (the peer is
/// the exporting resource's service.instance.id): hash rate, chain height and connected peers. Bytes up and down are
/// the torrent library's <c>torrent.bytes.up</c> and <c>torrent.bytes.down</c> counters.
/// </summary>
public sealed class PeerMetrics : IDisposable
{
    /// <summary>Proof-of-work attempts per second of wall time since the previous reading (H/s).</summary>
    public const string HashRate = "testbed.miner.hash_rate";

    /// <summary>Height of the peer's best tip.</summary>
    public const string ChainHeight = "testbed.chain.height";

    /// <summary>Swarm peers with a finished handshake.</summary>
    public const string ConnectedPeers = "testbed.peers.connected";

    private readonly Meter _meter = new(PeerTelemetry.SourceName);

    /// <summary>Creates the instruments over the given readings; each is called on every collection.</summary>
    public PeerMetrics(Func<long> attempts, Func<long> height, Func<int> connectedPeers)
    {
        var rate = new RateSampler(attempts);
        _meter.CreateObservableGauge(HashRate, rate.Read, "H/s", "Proof-of-work attempts per second since the previous reading");
        _meter.CreateObservableGauge(ChainHeight, height, "{block}", "Height of the best tip");
        _meter.CreateObservableGauge(ConnectedPeers, connectedPeers, "{peer}", "Swarm peers connected");
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}

/// <summary>Turns a growing count into a rate: the increase since the previous reading over the wall time between them.</summary>
public sealed class RateSampler(Func<long> count, Func<long>? timestamp = null)
{
    private readonly Func<long> _now = timestamp ?? Stopwatch.GetTimestamp;
    private readonly Lock _gate = new();
    private long _lastCount = count();
    private long _lastTime = (timestamp ?? Stopwatch.GetTimestamp)();

    /// <summary>Per second since the previous reading (or since creation); 0 when no time has passed.</summary>
    public double Read()
    {
        lock (_gate)
        {
            var (c, t) = (count(), _now());
            var seconds = (t - _lastTime) / (double)Stopwatch.Frequency;
            var rate = seconds > 0 ? (c - _lastCount) / seconds : 0;
            (_lastCount, _lastTime) = (c, t);
            return rate;
        }
    }
}
