using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Testbed.Ledger.Chain;
using Testbed.Ledger.Mining;
using Testbed.Ledger.Wallets;
using Testbed.Peer.Hosting;

namespace Testbed.Peer.Bench;

/// <summary>
/// `bench propagation` and `bench sync`: end-to-end measurements with a real tracker and real peer processes on loopback,
/// printed beside their targets. The AppHost exposes the same commands (`dotnet run --project AppHost -- bench ...`).
/// </summary>
public static class PeerBenchCommands
{
    private const double PropagationP50TargetMs = 50;
    private const double PropagationP99TargetMs = 200;
    private const double SyncTargetRatio = 0.5;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    /// <summary>Parses `propagation|sync [options]` and runs it; exit codes 0 done, 1 a target missed, 2 bad arguments.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Peer benchmarks");
        root.Subcommands.Add(Propagation());
        root.Subcommands.Add(Sync());
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }

            return 2;
        }

        return await parse.InvokeAsync().ConfigureAwait(false);
    }

    /// <summary>`propagation --peers N --blocks M --difficulty B [--json]`.</summary>
    public static Command Propagation()
    {
        var peers = new Option<int>("--peers") { Description = "Peer processes (2..32)", DefaultValueFactory = _ => 8 };
        var blocks = new Option<int>("--blocks") { Description = "Blocks measured (1..1000), mined one at a time round robin", DefaultValueFactory = _ => 40 };
        var difficulty = new Option<int>("--difficulty") { Description = "Difficulty bits (low, to leave the CPU to propagation)", DefaultValueFactory = _ => 8 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var command = new Command("propagation", "Time from a block's mining to its replay on every peer (p50, p99) against 50 ms / 200 ms");
        foreach (var o in new Option[] { peers, blocks, difficulty, json })
        {
            command.Options.Add(o);
        }

        command.SetAction(async (parse, ct) =>
        {
            int n = parse.GetValue(peers), m = parse.GetValue(blocks), bits = parse.GetValue(difficulty);
            if (n is < 2 or > 32 || m is < 1 or > 1000 || bits is < 1 or > 24)
            {
                await Console.Error.WriteLineAsync("error: --peers must be 2..32, --blocks 1..1000, --difficulty 1..24").ConfigureAwait(false);
                return 2;
            }

            return await PropagationAsync(n, m, bits, parse.GetValue(json), ct).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>`sync --blocks N --seeders S [--json]`.</summary>
    public static Command Sync()
    {
        var blocks = new Option<int>("--blocks") { Description = "Chain length the fresh peer catches up (1..100000)", DefaultValueFactory = _ => 10_000 };
        var seeders = new Option<int>("--seeders") { Description = "Peers that already hold the chain (1..16)", DefaultValueFactory = _ => 4 };
        var segment = new Option<int>("--segment-blocks") { Description = "Blocks per chain-segment torrent", DefaultValueFactory = _ => 256 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var command = new Command("sync", "A fresh peer catching up from the swarm, blocks/s, beside the single-core verification rate; target >= half");
        foreach (var o in new Option[] { blocks, seeders, segment, json })
        {
            command.Options.Add(o);
        }

        command.SetAction(async (parse, ct) =>
        {
            int b = parse.GetValue(blocks), s = parse.GetValue(seeders), seg = parse.GetValue(segment);
            if (b is < 1 or > 100_000 || s is < 1 or > 16 || seg is < 1 or > 4096)
            {
                await Console.Error.WriteLineAsync("error: --blocks must be 1..100000, --seeders 1..16, --segment-blocks 1..4096").ConfigureAwait(false);
                return 2;
            }

            return await SyncAsync(b, s, seg, parse.GetValue(json), ct).ConfigureAwait(false);
        });
        return command;
    }

    private static Dictionary<string, string> PeerEnvironment(string name, string dataDir, BenchProcess tracker, int bits, int segmentBlocks) => new()
    {
        ["services__tracker__http__0"] = tracker.BaseUrl.ToString().TrimEnd('/'),
        ["Testbed__PeerName"] = name,
        ["Testbed__DataDir"] = dataDir,
        ["Testbed__DifficultyBits"] = bits.ToString(CultureInfo.InvariantCulture),
        ["Testbed__SegmentBlocks"] = segmentBlocks.ToString(CultureInfo.InvariantCulture),
        ["Testbed__AnnounceIntervalSeconds"] = "2",
    };

    private static async Task<int> PropagationAsync(int peerCount, int blockCount, int bits, bool json, CancellationToken ct)
    {
        var root = Path.Combine(Path.GetTempPath(), "testbed-bench-propagation-" + Guid.NewGuid().ToString("n")[..8]);
        var processes = new List<BenchProcess>();
        try
        {
            var tracker = BenchProcess.Start("tracker", BenchProcess.SiblingDll("Testbed.Tracker"), new Dictionary<string, string>());
            processes.Add(tracker);
            await tracker.WaitHealthyAsync(Patience, ct).ConfigureAwait(false);
            var peers = new List<BenchProcess>();
            for (var i = 1; i <= peerCount; i++)
            {
                var peer = BenchProcess.Start($"peer-{i}", BenchProcess.PeerDll, PeerEnvironment($"peer-{i}", Path.Combine(root, $"peer-{i}"), tracker, bits, 256));
                processes.Add(peer);
                peers.Add(peer);
            }

            foreach (var peer in peers)
            {
                await peer.WaitHealthyAsync(Patience, ct).ConfigureAwait(false);
            }

            await WaitAsync(peers, s => s.GetProperty("connectedPeers").GetArrayLength() == peerCount - 1, ct).ConfigureAwait(false);

            // Warm-up (JIT, connections), not measured.
            await MineAsync(peers[0], 2, ct).ConfigureAwait(false);
            await WaitAsync(peers, s => s.GetProperty("height").GetInt64() >= 2, ct).ConfigureAwait(false);
            var since = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            for (var i = 0; i < blockCount; i++)
            {
                var height = await MineAsync(peers[i % peerCount], 1, ct).ConfigureAwait(false);
                await WaitAsync(peers, s => s.GetProperty("height").GetInt64() >= height, ct, pollMs: 20).ConfigureAwait(false);
            }

            var mined = new Dictionary<string, long>(StringComparer.Ordinal);
            var accepted = new List<(string Hash, long AtMs)>();
            var downloadMs = new List<double>();
            var applyMs = new List<double>();
            foreach (var peer in peers)
            {
                var timings = await peer.GetAsync($"timings?since={since}", ct).ConfigureAwait(false);
                foreach (var t in timings.GetProperty("blocks").EnumerateArray())
                {
                    var hash = t.GetProperty("hash").GetString()!;
                    if (t.GetProperty("minedAtMs").ValueKind == JsonValueKind.Number)
                    {
                        mined[hash] = t.GetProperty("minedAtMs").GetInt64();
                    }
                    else
                    {
                        accepted.Add((hash, t.GetProperty("acceptedAtMs").GetInt64()));
                        if (t.GetProperty("downloadMs").ValueKind == JsonValueKind.Number)
                        {
                            downloadMs.Add(t.GetProperty("downloadMs").GetDouble());
                            applyMs.Add(t.GetProperty("applyMs").GetDouble());
                        }
                    }
                }
            }

            var deliveries = accepted.Where(a => mined.ContainsKey(a.Hash)).Select(a => (double)(a.AtMs - mined[a.Hash])).Order().ToList();
            var everyPeer = accepted.Where(a => mined.ContainsKey(a.Hash)).GroupBy(a => a.Hash)
                .Select(g => (double)(g.Max(a => a.AtMs) - mined[g.Key])).Order().ToList();
            double p50 = Percentile(deliveries, 0.5), p99 = Percentile(deliveries, 0.99);
            double all50 = Percentile(everyPeer, 0.5), all99 = Percentile(everyPeer, 0.99);
            var met = p50 <= PropagationP50TargetMs && p99 <= PropagationP99TargetMs;
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    bench = "propagation",
                    peers = peerCount,
                    blocks = mined.Count,
                    deliveries = deliveries.Count,
                    difficultyBits = bits,
                    p50Ms = p50,
                    p99Ms = p99,
                    everyPeerP50Ms = all50,
                    everyPeerP99Ms = all99,
                    downloadP50Ms = Percentile([.. downloadMs.Order()], 0.5),
                    applyP50Ms = Percentile([.. applyMs.Order()], 0.5),
                    targetP50Ms = PropagationP50TargetMs,
                    targetP99Ms = PropagationP99TargetMs,
                    p50Ratio = p50 / PropagationP50TargetMs,
                    p99Ratio = p99 / PropagationP99TargetMs,
                    met,
                }));
            }
            else
            {
                Console.WriteLine($"propagation: {peerCount} peers, {mined.Count} blocks, {deliveries.Count} deliveries (mined -> replayed on a peer), difficulty {bits} bits");
                Console.WriteLine($"  per peer:        p50 {p50:0.0} ms ({p50 / PropagationP50TargetMs:0.00} x target {PropagationP50TargetMs} ms), p99 {p99:0.0} ms ({p99 / PropagationP99TargetMs:0.00} x target {PropagationP99TargetMs} ms)");
                Console.WriteLine($"  on every peer:   p50 {all50:0.0} ms, p99 {all99:0.0} ms");
                Console.WriteLine($"  at the receiver: torrent download p50 {Percentile([.. downloadMs.Order()], 0.5):0.0} ms, verify+replay+store p50 {Percentile([.. applyMs.Order()], 0.5):0.0} ms");
                Console.WriteLine(met ? "  target met" : "  target missed");
            }

            return met ? 0 : 1;
        }
        finally
        {
            foreach (var p in processes)
            {
                await p.DisposeAsync().ConfigureAwait(false);
            }

            TryDelete(root);
        }
    }

    private static async Task<int> SyncAsync(int blockCount, int seederCount, int segmentBlocks, bool json, CancellationToken ct)
    {
        const int bits = 4;
        var root = Path.Combine(Path.GetTempPath(), "testbed-bench-sync-" + Guid.NewGuid().ToString("n")[..8]);
        var processes = new List<BenchProcess>();
        try
        {
            var network = new PeerOptions { DifficultyBits = bits }.ToNetworkConfig();
            if (!json)
            {
                Console.WriteLine($"sync: mining a {blockCount}-block chain at {bits} bits ...");
            }

            var tokens = new List<string>(blockCount);
            var source = Path.Combine(root, "source");
            using (var wallet = Wallet.CreateEphemeral())
            using (var chain = Blockchain.Open(source, network))
            {
                var miner = new BlockMiner(wallet, 1);
                while (tokens.Count < blockCount)
                {
                    var mined = await miner.MineAsync(chain.CreateTemplate([], wallet.PublicKey.Address), ct).ConfigureAwait(false);
                    var result = chain.AddBlock(mined!.Block.Token);
                    if (result.Status != AddBlockStatus.Connected)
                    {
                        throw new InvalidOperationException($"generated block refused: {result.Status} {result.Detail}");
                    }

                    tokens.Add(mined.Block.Token);
                }
            }

            // The same work on one core, in this process: verify, replay and store every block on a fresh chain.
            var verify = Stopwatch.StartNew();
            using (var chain = Blockchain.Open(Path.Combine(root, "verify"), network))
            {
                foreach (var token in tokens)
                {
                    if (chain.AddBlock(token).Status != AddBlockStatus.Connected)
                    {
                        throw new InvalidOperationException("verification run refused a block");
                    }
                }
            }

            var verifyRate = blockCount / verify.Elapsed.TotalSeconds;
            var tracker = BenchProcess.Start("tracker", BenchProcess.SiblingDll("Testbed.Tracker"), new Dictionary<string, string>());
            processes.Add(tracker);
            await tracker.WaitHealthyAsync(Patience, ct).ConfigureAwait(false);
            var seeders = new List<BenchProcess>();
            for (var i = 1; i <= seederCount; i++)
            {
                var dir = Path.Combine(root, $"peer-{i}");
                CopyDirectory(source, Path.Combine(dir, "chain"));
                var peer = BenchProcess.Start($"peer-{i}", BenchProcess.PeerDll, PeerEnvironment($"peer-{i}", dir, tracker, bits, segmentBlocks));
                processes.Add(peer);
                seeders.Add(peer);
            }

            foreach (var peer in seeders)
            {
                await peer.WaitHealthyAsync(Patience, ct).ConfigureAwait(false);
            }

            await WaitAsync(seeders, s => s.GetProperty("connectedPeers").GetArrayLength() == seederCount - 1, ct).ConfigureAwait(false);
            var started = Stopwatch.StartNew();
            var fresh = BenchProcess.Start("fresh", BenchProcess.PeerDll, PeerEnvironment("fresh", Path.Combine(root, "fresh"), tracker, bits, segmentBlocks));
            processes.Add(fresh);
            await fresh.WaitHealthyAsync(Patience * 5, ct).ConfigureAwait(false);
            await WaitAsync([fresh], s => s.GetProperty("height").GetInt64() >= blockCount, ct, timeout: Patience * 10).ConfigureAwait(false);
            var endToEnd = started.Elapsed.TotalSeconds;
            var timings = (await fresh.GetAsync("timings", ct).ConfigureAwait(false)).GetProperty("blocks").EnumerateArray()
                .Where(t => t.GetProperty("via").GetString() == "sync").Select(t => t.GetProperty("acceptedAtMs").GetInt64()).Order().ToList();
            var status = await fresh.GetAsync("status", ct).ConfigureAwait(false);
            var span = timings.Count > 1 ? (timings[^1] - timings[0]) / 1000.0 : double.NaN;
            var syncRate = timings.Count / span;
            var stalls = timings.Zip(timings.Skip(1), (a, b) => b - a).Where(gap => gap > 50).ToList();
            var ratio = syncRate / verifyRate;
            var met = ratio >= SyncTargetRatio;
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    bench = "sync",
                    blocks = blockCount,
                    seeders = seederCount,
                    segmentBlocks,
                    segments = status.GetProperty("sync").GetProperty("segmentsDownloaded").GetInt64(),
                    syncBlocksPerSecond = syncRate,
                    endToEndSeconds = endToEnd,
                    stallSeconds = stalls.Sum() / 1000.0,
                    peerApplySeconds = status.GetProperty("sync").GetProperty("applySeconds").GetDouble(),
                    verifyBlocksPerSecond = verifyRate,
                    ratio,
                    targetRatio = SyncTargetRatio,
                    met,
                }));
            }
            else
            {
                Console.WriteLine($"  fresh peer caught up {timings.Count} blocks from {seederCount} peers in {status.GetProperty("sync").GetProperty("segmentsDownloaded")} segment torrents");
                Console.WriteLine($"  sync: {syncRate:0} blocks/s (first to last block; {endToEnd:0.0} s from process start to tip)");
                Console.WriteLine($"  single-core verify+replay+store in this run: {verifyRate:0} blocks/s");
                Console.WriteLine($"  of the catch-up, verify+replay+store inside the fresh peer took {status.GetProperty("sync").GetProperty("applySeconds").GetDouble():0.0} s ({timings.Count / status.GetProperty("sync").GetProperty("applySeconds").GetDouble():0} blocks/s)");
                Console.WriteLine($"  stalls over 50 ms between consecutive synced blocks: {stalls.Count}, {stalls.Sum() / 1000.0:0.0} s in all");
                Console.WriteLine($"  ratio {ratio:0.00} (target >= {SyncTargetRatio}): {(met ? "met" : "missed")}");
            }

            return met ? 0 : 1;
        }
        finally
        {
            foreach (var p in processes)
            {
                await p.DisposeAsync().ConfigureAwait(false);
            }

            TryDelete(root);
        }
    }

    private static async Task<long> MineAsync(BenchProcess peer, int blocks, CancellationToken ct)
    {
        using var response = await peer.Http.PostAsJsonAsync("mining", new { action = "mine", blocks }, ct).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct).ConfigureAwait(false);
        return body.GetProperty("mined").EnumerateArray().Last().GetProperty("height").GetInt64();
    }

    private static async Task WaitAsync(IReadOnlyList<BenchProcess> peers, Func<JsonElement, bool> condition, CancellationToken ct, int pollMs = 200, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        var pending = peers.ToList();
        while (pending.Count > 0)
        {
            var done = new List<BenchProcess>();
            foreach (var peer in pending)
            {
                if (condition(await peer.GetAsync("status", ct).ConfigureAwait(false)))
                {
                    done.Add(peer);
                }
            }

            pending.RemoveAll(done.Contains);
            if (pending.Count == 0)
            {
                return;
            }

            if (watch.Elapsed > (timeout ?? Patience))
            {
                throw new TimeoutException($"{string.Join(", ", pending.Select(p => p.Name))} did not get there within {(timeout ?? Patience).TotalSeconds} s");
            }

            await Task.Delay(pollMs, ct).ConfigureAwait(false);
        }
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
