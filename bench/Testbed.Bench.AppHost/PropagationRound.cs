using Testbed.Peer.Propagation;

namespace Testbed.Bench.AppHost;

/// <summary>
/// One round of <c>bench propagation</c>, from every peer's /timings: a delivery is a block replayed and stored on a peer
/// other than its miner, timed from the miner's nonce found (its minedAtMs) to the receiver's acceptedAtMs, one machine clock.
/// </summary>
internal sealed record PropagationRound(
    int Blocks,
    int Deliveries,
    double P50Ms,
    double P99Ms,
    double MinMs,
    double MaxMs,
    double EveryPeerP50Ms,
    double EveryPeerP99Ms,
    double MinerStoreP50Ms,
    double DownloadP50Ms,
    double ApplyP50Ms)
{
    /// <summary>The metric names of <see cref="Values"/>, in its order: each becomes a series over the rounds, in ms.</summary>
    public static readonly IReadOnlyList<string> Metrics =
    [
        "delivery p50",
        "delivery p99",
        "delivery min",
        "delivery max",
        "on every peer p50",
        "on every peer p99",
        "miner: nonce to stored p50",
        "receiver: download p50",
        "receiver: verify+replay+store p50",
    ];

    /// <summary>The round's figures in the order of <see cref="Metrics"/>.</summary>
    public double[] Values => [P50Ms, P99Ms, MinMs, MaxMs, EveryPeerP50Ms, EveryPeerP99Ms, MinerStoreP50Ms, DownloadP50Ms, ApplyP50Ms];

    /// <summary>The round's figures for the blocks in <paramref name="mined"/> (their hashes), from every peer's report.</summary>
    public static PropagationRound From(IReadOnlySet<string> mined, IEnumerable<IReadOnlyList<BlockTiming>> reports)
    {
        var timings = reports.SelectMany(r => r).Where(t => mined.Contains(t.Hash)).ToList();
        // minedAtMs is set only in the miner's report; every other peer's entry for that block is a delivery.
        var miners = timings.Where(t => t.MinedAtMs is not null).GroupBy(t => t.Hash).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var missing = mined.Where(h => !miners.ContainsKey(h)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"no miner's timing for {missing.Count} mined block(s), first {missing[0]}");
        }

        var delivered = timings.Where(t => t.MinedAtMs is null).ToList();
        var deliveries = delivered.Select(t => (double)(t.AcceptedAtMs - miners[t.Hash].MinedAtMs!.Value)).ToList();
        var everyPeer = delivered.GroupBy(t => t.Hash).Select(g => (double)(g.Max(t => t.AcceptedAtMs) - miners[g.Key].MinedAtMs!.Value)).ToList();
        var transfers = delivered.Where(t => t.DownloadMs is not null && t.ApplyMs is not null).ToList();
        return new PropagationRound(
            miners.Count,
            deliveries.Count,
            BenchFigures.Percentile(deliveries, 0.5),
            BenchFigures.Percentile(deliveries, 0.99),
            deliveries.Count == 0 ? double.NaN : deliveries.Min(),
            deliveries.Count == 0 ? double.NaN : deliveries.Max(),
            BenchFigures.Percentile(everyPeer, 0.5),
            BenchFigures.Percentile(everyPeer, 0.99),
            BenchFigures.Percentile(miners.Values.Select(t => (double)(t.AcceptedAtMs - t.MinedAtMs!.Value)), 0.5),
            BenchFigures.Percentile(transfers.Select(t => t.DownloadMs!.Value), 0.5),
            BenchFigures.Percentile(transfers.Select(t => t.ApplyMs!.Value), 0.5));
    }
}
