using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Testbed.AppHost.Headless;
using Testbed.AppHost.Model;
using Testbed.Bench.Measurement;
using Testbed.Contracts.Settings;

namespace Testbed.Bench.AppHost;

/// <summary>
/// <c>bench propagation [--peers N] [--blocks M] [--difficulty B] [--json]</c>: the tracker and N peers of the testbed
/// model, talking directly (no chaos, no fault proxy), mine blocks one at a time round robin; every peer's /timings gives,
/// per delivery, the replay time on the receiver minus the mined time on the miner (one machine clock): p50 and p99 against
/// 50 ms and 200 ms. Exit code 0 when both are met, 1 when not, 2 for unusable arguments.
/// </summary>
public static class BenchPropagationCommand
{
    private const double P50TargetMs = 50;
    private const double P99TargetMs = 200;

    /// <summary>The peer's own segment size: propagation does not catch up by segments, and its figures were taken so.</summary>
    private const int SegmentBlocks = 256;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var peers = new Option<int>("--peers") { Description = "Peer processes (2..32)", DefaultValueFactory = _ => 8 };
        var blocks = new Option<int>("--blocks") { Description = "Blocks measured (1..1000), mined one at a time round robin", DefaultValueFactory = _ => 40 };
        var difficulty = new Option<int>("--difficulty") { Description = "Difficulty bits (1..64; low, to leave the CPU to propagation)", DefaultValueFactory = _ => 8 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var command = new Command("propagation", "Time from a block's mining to its replay on every peer (p50, p99) against 50 ms / 200 ms");
        foreach (var option in new Option[] { peers, blocks, difficulty, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            int n = parse.GetValue(peers), m = parse.GetValue(blocks), bits = parse.GetValue(difficulty);
            if (n is < 2 or > TestbedSettings.MaxPeers || m is < 1 or > 1000)
            {
                await Console.Error.WriteLineAsync($"error: --peers must be 2..{TestbedSettings.MaxPeers}, --blocks 1..1000");
                return 2;
            }

            if (!PeerSettings.DifficultyBits.Allows(bits))
            {
                await Console.Error.WriteLineAsync($"error: {PeerSettings.DifficultyBits.Refusal(bits.ToString(CultureInfo.InvariantCulture), "--difficulty")}");
                return 2;
            }

            return await RunAsync(n, m, bits, parse.GetValue(json), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(int peerCount, int blockCount, int bits, bool json, CancellationToken cancellationToken)
    {
        var builder = HeadlessTestbed.CreateBuilder();
        var model = new TestbedModel(builder, new TestbedSettings(peerCount, bits) { DirectLinks = true, SegmentBlocks = SegmentBlocks });
        var resources = model.AddPeers(model.AddTracker());
        await using var testbed = await HeadlessTestbed.StartAsync(builder, model, StartTimeout, cancellationToken);
        using var client = new BenchPeers(model);
        var peers = resources.Select(r => BenchPeers.Of(testbed, r)).ToList();
        await client.WaitAsync(peers, s => s.ConnectedPeers.Count == peerCount - 1, cancellationToken);

        // Warm-up (JIT, connections), not measured.
        await client.MineAsync(peers[0], 2, cancellationToken);
        await client.WaitAsync(peers, s => s.Height >= 2, cancellationToken);
        var since = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < blockCount; i++)
        {
            var height = await client.MineAsync(peers[i % peerCount], 1, cancellationToken);
            await client.WaitAsync(peers, s => s.Height >= height, cancellationToken, pollMs: 20);
        }

        var figures = PropagationFigures.From(await Task.WhenAll(peers.Select(p => client.TimingsAsync(p, since, cancellationToken))));
        Print(figures, peerCount, bits, json);
        return figures.Met ? 0 : 1;
    }

    private static void Print(PropagationFigures f, int peers, int bits, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                bench = "propagation",
                peers,
                blocks = f.Blocks,
                deliveries = f.Deliveries,
                difficultyBits = bits,
                p50Ms = f.P50Ms,
                p99Ms = f.P99Ms,
                everyPeerP50Ms = f.EveryPeerP50Ms,
                everyPeerP99Ms = f.EveryPeerP99Ms,
                downloadP50Ms = f.DownloadP50Ms,
                applyP50Ms = f.ApplyP50Ms,
                targetP50Ms = P50TargetMs,
                targetP99Ms = P99TargetMs,
                p50Ratio = f.P50Ms / P50TargetMs,
                p99Ratio = f.P99Ms / P99TargetMs,
                met = f.Met,
            }));
            return;
        }

        Console.WriteLine($"propagation: {peers} peers, {f.Blocks} blocks, {f.Deliveries} deliveries (mined -> replayed on a peer), difficulty {bits} bits");
        Console.WriteLine($"  per peer:        p50 {f.P50Ms:0.0} ms ({f.P50Ms / P50TargetMs:0.00} x target {P50TargetMs} ms), p99 {f.P99Ms:0.0} ms ({f.P99Ms / P99TargetMs:0.00} x target {P99TargetMs} ms)");
        Console.WriteLine($"  on every peer:   p50 {f.EveryPeerP50Ms:0.0} ms, p99 {f.EveryPeerP99Ms:0.0} ms");
        Console.WriteLine($"  at the receiver: torrent download p50 {f.DownloadP50Ms:0.0} ms, verify+replay+store p50 {f.ApplyP50Ms:0.0} ms");
        Console.WriteLine(f.Met ? "  target met" : "  target missed");
    }

    /// <summary>The figures of one run, from every peer's timing report.</summary>
    private sealed record PropagationFigures(int Blocks, int Deliveries, double P50Ms, double P99Ms, double EveryPeerP50Ms, double EveryPeerP99Ms, double DownloadP50Ms, double ApplyP50Ms)
    {
        public bool Met => P50Ms <= P50TargetMs && P99Ms <= P99TargetMs;

        public static PropagationFigures From(IEnumerable<IReadOnlyList<Testbed.Peer.Propagation.BlockTiming>> reports)
        {
            var timings = reports.SelectMany(r => r).ToList();
            // minedAtMs is set only in the miner's report; every other peer's entry for that block is a delivery.
            var mined = timings.Where(t => t.MinedAtMs is not null).GroupBy(t => t.Hash).ToDictionary(g => g.Key, g => g.First().MinedAtMs!.Value, StringComparer.Ordinal);
            var accepted = timings.Where(t => t.MinedAtMs is null).ToList();
            var delivered = accepted.Where(t => mined.ContainsKey(t.Hash)).ToList();
            var deliveries = delivered.Select(t => (double)(t.AcceptedAtMs - mined[t.Hash])).ToList();
            var everyPeer = delivered.GroupBy(t => t.Hash).Select(g => (double)(g.Max(t => t.AcceptedAtMs) - mined[g.Key])).ToList();
            var transfers = accepted.Where(t => t.DownloadMs is not null && t.ApplyMs is not null).ToList();
            return new PropagationFigures(
                mined.Count,
                deliveries.Count,
                BenchFigures.Percentile(deliveries, 0.5),
                BenchFigures.Percentile(deliveries, 0.99),
                BenchFigures.Percentile(everyPeer, 0.5),
                BenchFigures.Percentile(everyPeer, 0.99),
                BenchFigures.Percentile(transfers.Select(t => t.DownloadMs!.Value), 0.5),
                BenchFigures.Percentile(transfers.Select(t => t.ApplyMs!.Value), 0.5));
        }
    }
}
