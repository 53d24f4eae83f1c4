using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Testbed.AppHost.Headless;
using Testbed.AppHost.Model;
using Testbed.Ledger.Chain;
using Testbed.Ledger.Consensus;
using Testbed.Ledger.Mining;
using Testbed.Ledger.Wallets;
using Testbed.Peer.Hosting;

namespace Testbed.Bench.AppHost;

/// <summary>
/// <c>bench sync [--blocks N] [--seeders S] [--segment-blocks K] [--json]</c>: mines a chain in this process, measures
/// this machine's single-core verify+replay+store rate on a fresh chain, then runs the tracker and S+1 peers of the testbed
/// model talking directly: peer-1..peer-S start with the chain in their data directories, peer-(S+1) starts fresh once
/// they are meshed and catches up by segment torrents. Its rate (first to last synced block) against half the
/// verification rate: exit code 0 when met, 1 when not, 2 for unusable arguments.
/// </summary>
public static class BenchSyncCommand
{
    private const double TargetRatio = 0.5;
    private const uint DifficultyBits = 4;
    private const long StallMs = 50;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var blocks = new Option<int>("--blocks") { Description = "Chain length the fresh peer catches up (1..100000)", DefaultValueFactory = _ => 10_000 };
        var seeders = new Option<int>("--seeders") { Description = "Peers that already hold the chain (1..16)", DefaultValueFactory = _ => 4 };
        var segment = new Option<int>("--segment-blocks") { Description = "Blocks per chain-segment torrent", DefaultValueFactory = _ => 256 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var command = new Command("sync", "A fresh peer catching up from the swarm, blocks/s, beside the single-core verification rate; target >= half");
        foreach (var option in new Option[] { blocks, seeders, segment, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            int b = parse.GetValue(blocks), s = parse.GetValue(seeders), k = parse.GetValue(segment);
            if (b is < 1 or > 100_000 || s is < 1 or > 16 || k is < 1 or > 4096)
            {
                await Console.Error.WriteLineAsync("error: --blocks must be 1..100000, --seeders 1..16, --segment-blocks 1..4096");
                return 2;
            }

            return await RunAsync(b, s, k, parse.GetValue(json), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(int blockCount, int seederCount, int segmentBlocks, bool json, CancellationToken cancellationToken)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "testbed-bench-sync-" + Guid.NewGuid().ToString("n")[..8]);
        try
        {
            if (!json)
            {
                Console.WriteLine($"sync: mining a {blockCount}-block chain at {DifficultyBits} bits ...");
            }

            var network = new PeerOptions { DifficultyBits = DifficultyBits }.ToNetworkConfig();
            var source = Path.Combine(scratch, "source");
            var tokens = await MineChainAsync(source, network, blockCount, cancellationToken);
            var verifyRate = VerifyRate(tokens, Path.Combine(scratch, "verify"), network);

            var builder = HeadlessTestbed.CreateBuilder();
            var model = new TestbedModel(builder, new TestbedSettings(seederCount + 1, (int)DifficultyBits) { DirectLinks = true, SegmentBlocks = segmentBlocks });
            var resources = model.AddPeers(model.AddTracker());
            var seeders = resources.Take(seederCount).ToList();
            var fresh = resources[^1].WithExplicitStart();
            foreach (var seeder in seeders)
            {
                model.PrepareData(seeder, directory => CopyDirectory(source, Path.Combine(directory, "chain")));
            }

            await using var testbed = await HeadlessTestbed.StartAsync(builder, model, StartTimeout, cancellationToken);
            using var client = new BenchPeers(model);
            await client.WaitAsync([.. seeders.Select(s => BenchPeers.Of(testbed, s))], s => s.ConnectedPeers.Count == seederCount - 1, cancellationToken);

            var started = Stopwatch.StartNew();
            await testbed.StartResourceAsync(fresh, cancellationToken);
            await testbed.WaitHealthyAsync(fresh.Resource, BenchPeers.Patience * 5, cancellationToken);
            var peer = BenchPeers.Of(testbed, fresh);
            await client.WaitAsync([peer], s => s.Height >= blockCount, cancellationToken, timeout: BenchPeers.Patience * 10);
            var endToEnd = started.Elapsed.TotalSeconds;

            var synced = (await client.TimingsAsync(peer, 0, cancellationToken)).Where(t => t.Via == "sync").Select(t => t.AcceptedAtMs).Order().ToList();
            var figures = SyncFigures.From(synced, await client.SyncAsync(peer, cancellationToken), endToEnd, verifyRate);
            Print(figures, blockCount, seederCount, segmentBlocks, json);
            return figures.Met ? 0 : 1;
        }
        finally
        {
            TryDelete(scratch);
        }
    }

    /// <summary>Mines <paramref name="count"/> empty blocks into a chain store at <paramref name="directory"/>; their tokens.</summary>
    private static async Task<List<string>> MineChainAsync(string directory, NetworkConfig network, int count, CancellationToken cancellationToken)
    {
        var tokens = new List<string>(count);
        using var wallet = Wallet.CreateEphemeral();
        using var chain = Blockchain.Open(directory, network);
        var miner = new BlockMiner(wallet, 1);
        while (tokens.Count < count)
        {
            var mined = await miner.MineAsync(chain.CreateTemplate([], wallet.PublicKey.Address), cancellationToken)
                ?? throw new OperationCanceledException(cancellationToken);
            var result = chain.AddMinedBlock(mined);
            if (result.Status != AddBlockStatus.Connected)
            {
                throw new InvalidOperationException($"generated block refused: {result.Status} {result.Detail}");
            }

            tokens.Add(mined.Block.Token);
        }

        return tokens;
    }

    /// <summary>The same work on one core, in this process: verify, replay and store every block on a fresh chain; blocks/s.</summary>
    private static double VerifyRate(List<string> tokens, string directory, NetworkConfig network)
    {
        var clock = Stopwatch.StartNew();
        using (var chain = Blockchain.Open(directory, network))
        {
            foreach (var token in tokens)
            {
                if (chain.AddBlock(token).Status != AddBlockStatus.Connected)
                {
                    throw new InvalidOperationException("verification run refused a block");
                }
            }
        }

        return tokens.Count / clock.Elapsed.TotalSeconds;
    }

    private static void Print(SyncFigures f, int blocks, int seeders, int segmentBlocks, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                bench = "sync",
                blocks,
                seeders,
                segmentBlocks,
                segments = f.Progress.SegmentsDownloaded,
                syncBlocksPerSecond = f.SyncRate,
                endToEndSeconds = f.EndToEndSeconds,
                stallSeconds = f.StallSeconds,
                peerApplySeconds = f.Progress.ApplySeconds,
                verifyBlocksPerSecond = f.VerifyRate,
                ratio = f.Ratio,
                targetRatio = TargetRatio,
                met = f.Met,
            }));
            return;
        }

        Console.WriteLine($"  fresh peer caught up {f.Synced} blocks from {seeders} peers in {f.Progress.SegmentsDownloaded} segment torrents");
        Console.WriteLine($"  sync: {f.SyncRate:0} blocks/s (first to last block; {f.EndToEndSeconds:0.0} s from process start to tip)");
        Console.WriteLine($"  single-core verify+replay+store in this run: {f.VerifyRate:0} blocks/s");
        Console.WriteLine($"  of the catch-up, verify+replay+store inside the fresh peer took {f.Progress.ApplySeconds:0.0} s ({f.Synced / f.Progress.ApplySeconds:0} blocks/s)");
        Console.WriteLine($"  stalls over {StallMs} ms between consecutive synced blocks: {f.Stalls}, {f.StallSeconds:0.0} s in all");
        Console.WriteLine($"  ratio {f.Ratio:0.00} (target >= {TargetRatio}): {(f.Met ? "met" : "missed")}");
    }

    /// <summary>The figures of one run: the fresh peer's synced blocks (accepted at, unix ms, in order) and its catch-up report.</summary>
    private sealed record SyncFigures(int Synced, double SyncRate, int Stalls, double StallSeconds, SyncProgress Progress, double EndToEndSeconds, double VerifyRate)
    {
        public double Ratio => SyncRate / VerifyRate;

        public bool Met => Ratio >= TargetRatio;

        public static SyncFigures From(List<long> acceptedAtMs, SyncProgress progress, double endToEndSeconds, double verifyRate)
        {
            var span = acceptedAtMs.Count > 1 ? (acceptedAtMs[^1] - acceptedAtMs[0]) / 1000.0 : double.NaN;
            var stalls = acceptedAtMs.Zip(acceptedAtMs.Skip(1), (a, b) => b - a).Where(gap => gap > StallMs).ToList();
            return new SyncFigures(acceptedAtMs.Count, acceptedAtMs.Count / span, stalls.Count, stalls.Sum() / 1000.0, progress, endToEndSeconds, verifyRate);
        }
    }

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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A temp directory; the OS cleans it if this cannot.
        }
    }
}
