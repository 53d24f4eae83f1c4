using Testbed.Peer.Hosting;

namespace Testbed.Bench.AppHost;

/// <summary>
/// <c>bench sync [--blocks N] [--transactions T] [--seeders S] [--segment-blocks K] [--rounds R] [--json]</c>: mines a chain
/// of N blocks of T transactions in this process, then runs the tracker and S+R peers of the testbed model talking directly:
/// peer-1..peer-S start with the chain in their data directories, and each round starts one fresh peer (stopping it after),
/// which catches up by segment torrents. Rounds alternate with the limits measured in this process: the same verify,
/// replay and store on one core, and ES256 verifications per core. Exit code 0 when the fresh peer's median rate is at
/// least 1.5x the single-core median (it must use both cores), 1 when not, 2 for unusable arguments.
/// </summary>
public static class BenchSyncCommand
{
    private static readonly BenchTarget RatioTarget = BenchTarget.AtLeast(1.5);
    private const uint DifficultyBits = 4;
    private const long StallMs = 50;
    private const string BlocksPerSecond = "blocks/s";
    private const string ToTip = "s, start to tip";
    private const string Applying = "s, applying in peer";
    private const string Stalls = "stalls > 50 ms";
    private const string SingleCore = "one core: verify+replay+store";
    private const string Es256 = "one core: ES256 verify";
    private const string VerificationsPerSecond = "verifications/s";
    private static readonly TimeSpan Es256Duration = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    /// <summary>What one run was asked for.</summary>
    private sealed record Settings(int Blocks, int Transactions, int Seeders, int SegmentBlocks, int Rounds, bool Json);

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var blocks = new Option<int>("--blocks") { Description = "Chain length the fresh peer catches up (1..100000, default 10000; 5 rounds of 10000 take minutes)", DefaultValueFactory = _ => 10_000 };
        var transactions = new Option<int>("--transactions") { Description = "Transactions in every block (0..200, default 20)", DefaultValueFactory = _ => 20 };
        var seeders = new Option<int>("--seeders") { Description = "Peers that already hold the chain (1..16, default 4)", DefaultValueFactory = _ => 4 };
        var segment = new Option<int>("--segment-blocks") { Description = "Blocks per chain-segment torrent (1..4096, default 256)", DefaultValueFactory = _ => 256 };
        var shared = new BenchOptions();
        var command = new Command("sync", "A fresh peer catching up from the swarm, blocks/s, beside the single-core verify+replay+store rate and ES256 verifies per core measured in the same run; target >= 1.5x the single core");
        foreach (var option in new Option[] { blocks, transactions, seeders, segment, shared.Rounds, shared.Json })
        {
            command.Options.Add(option);
        }

        shared.SetAction(
            command,
            parse => new Settings(parse.GetValue(blocks), parse.GetValue(transactions), parse.GetValue(seeders), parse.GetValue(segment), parse.GetValue(shared.Rounds), parse.GetValue(shared.Json)),
            settings => settings is { Blocks: < 1 or > 100_000 } or { Transactions: < 0 or > 200 } or { Seeders: < 1 or > 16 } or { SegmentBlocks: < 1 or > 4096 }
                ? "error: --blocks must be 1..100000, --transactions 0..200, --seeders 1..16, --segment-blocks 1..4096"
                : null,
            RunAsync,
            Print,
            r => r.Met,
            checkLast: settings => settings.Seeders + settings.Rounds > TestbedSettings.MaxPeers
                ? $"error: --seeders + --rounds must be at most {TestbedSettings.MaxPeers} (a fresh peer a round)"
                : null);
        return command;
    }

    private static async Task<SyncResult> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "testbed-bench-sync-" + Guid.NewGuid().ToString("n")[..8]);
        try
        {
            if (!settings.Json)
            {
                Console.WriteLine($"bench sync: mining a {settings.Blocks}-block chain of {settings.Transactions} transactions a block at {DifficultyBits} bits ...");
            }

            var network = new PeerOptions { DifficultyBits = DifficultyBits }.ToNetworkConfig();
            var source = Path.Combine(scratch, "source");
            var chain = await SyncChain.MineAsync(source, network, settings.Blocks, settings.Transactions, cancellationToken);

            var builder = HeadlessTestbed.CreateBuilder();
            var model = new TestbedModel(builder, new TestbedSettings(settings.Seeders + settings.Rounds, (int)DifficultyBits) { DirectLinks = true, SegmentBlocks = settings.SegmentBlocks });
            var resources = model.AddPeers(model.AddTracker());
            var seeders = resources.Take(settings.Seeders).ToList();
            var fresh = new Queue<IResourceBuilder<ProjectResource>>(resources.Skip(settings.Seeders).Select(r => r.WithExplicitStart()));
            foreach (var seeder in seeders)
            {
                model.PrepareData(seeder, directory => CopyDirectory(source, Path.Combine(directory, "chain")));
            }

            await using var testbed = await HeadlessTestbed.StartAsync(builder, model, StartTimeout, cancellationToken);
            using var client = new BenchPeers(model);
            await client.WaitAsync([.. seeders.Select(s => BenchPeers.Of(testbed, s))], s => s.ConnectedPeers.Count == settings.Seeders - 1, cancellationToken);

            var freshSide = $"fresh peer from {settings.Seeders} seeders";
            var round = 0;
            var segments = new List<long>();
            var sides = new[]
            {
                new Side(freshSide, [BlocksPerSecond, ToTip, Applying, Stalls], async token =>
                {
                    var (values, segmentCount) = await CatchUpAsync(testbed, client, fresh.Dequeue(), settings.Blocks, token);
                    segments.Add(segmentCount);
                    return values;
                }),
                Side.Sync(SingleCore, [BlocksPerSecond], () => [chain.SingleCoreRate(Path.Combine(scratch, $"single-core-{round++}"), network)]),
                Side.Sync(Es256, [VerificationsPerSecond], () => [chain.Es256Rate(Es256Duration)]),
            };
            var series = await Interleaved.RunAsync(settings.Rounds, sides, cancellationToken);

            var ratio = Ratio.Of(series.Find(freshSide, BlocksPerSecond), series.Find(SingleCore, BlocksPerSecond));
            var es256 = series.Find(Es256, VerificationsPerSecond);
            return new SyncResult(
                Bench: "sync",
                Blocks: settings.Blocks,
                TransactionsPerBlock: settings.Transactions,
                Seeders: settings.Seeders,
                SegmentBlocks: settings.SegmentBlocks,
                Rounds: settings.Rounds,
                Order: "each round: a fresh peer's catch-up, the single-core run, the ES256 rate; the order reverses every other round",
                SegmentsPerRound: [.. segments],
                Series: series,
                Ratios: [ratio],
                Limits:
                [
                    new Limit($"verify + replay + store of the same {settings.Blocks} blocks on a fresh chain, one thread of this process", series.Find(SingleCore, BlocksPerSecond)),
                    new Limit($"ES256 (P-256) signature checks of a transaction JWS, one thread, {Es256Duration.TotalSeconds:0} s a round", es256),
                ],
                Es256BlocksPerSecondPerCore: es256.Median / (settings.Transactions + 1),
                TargetRatio: RatioTarget.Goal,
                Met: RatioTarget.MetBy(ratio.Value),
                ProcessorCount: Environment.ProcessorCount,
                LoadAverage: LoadAverage.Read(),
                Note: "blocks/s of the fresh peer runs from its first to its last synced block (/timings); a block carries its transactions' and its own ES256 signature, so the ES256 rate over (transactions + 1) bounds what one core can verify");
        }
        finally
        {
            TryDelete(scratch);
        }
    }

    /// <summary>Starts a fresh peer, waits until it holds the whole chain, stops it; its figures and the segments it fetched.</summary>
    private static async Task<(double[] Values, long Segments)> CatchUpAsync(HeadlessTestbed testbed, BenchPeers client, IResourceBuilder<ProjectResource> fresh, int blocks, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        await testbed.StartResourceAsync(fresh, cancellationToken);
        await testbed.WaitHealthyAsync(fresh.Resource, BenchPeers.Patience * 5, cancellationToken);
        var peer = BenchPeers.Of(testbed, fresh);
        await client.WaitAsync([peer], s => s.Height >= blocks, cancellationToken, timeout: BenchPeers.Patience * 10);
        var toTip = started.Elapsed.TotalSeconds;

        var synced = (await client.TimingsAsync(peer, 0, cancellationToken)).Where(t => t.Via == "sync").Select(t => t.AcceptedAtMs).Order().ToList();
        var progress = await client.SyncAsync(peer, cancellationToken);
        await testbed.StopResourceAsync(fresh, cancellationToken);

        var span = synced.Count > 1 ? (synced[^1] - synced[0]) / 1000.0 : double.NaN;
        var stalls = synced.Zip(synced.Skip(1), (a, b) => b - a).Count(gap => gap > StallMs);
        return ([synced.Count / span, toTip, progress.ApplySeconds, stalls], progress.SegmentsDownloaded);
    }

    private static void Print(SyncResult r)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"bench sync: a fresh peer catches up {r.Blocks} blocks of {r.TransactionsPerBlock} transactions from {r.Seeders} seeders in {r.SegmentBlocks}-block segment torrents; {r.Rounds} rounds, interleaved ({r.Order})"));
        var es256 = string.Create(c, $"  ES256 alone bounds one core at {Figure.Format(r.Es256BlocksPerSecondPerCore)} blocks/s ({r.TransactionsPerBlock + 1} signatures a block)");
        BenchFigures.PrintFigures(r.Series, [$"  segments per round: {string.Join(' ', r.SegmentsPerRound)}", es256], r.Ratios, r.Limits);
        Console.WriteLine(string.Create(c, $"target: fresh peer >= {r.TargetRatio}x the single-core rate (both cores used): x{r.Ratios[0].Value:F2}, {BenchFigures.Verdict(r.Met)}"));
        BenchFigures.PrintClosing(r.LoadAverage, r.ProcessorCount, r.Note);
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

    /// <summary>Figures of one <c>bench sync</c> run: the text prints these, --json writes them.</summary>
    private sealed record SyncResult(
        string Bench,
        int Blocks,
        int TransactionsPerBlock,
        int Seeders,
        int SegmentBlocks,
        int Rounds,
        string Order,
        long[] SegmentsPerRound,
        IReadOnlyList<Series> Series,
        IReadOnlyList<Ratio> Ratios,
        IReadOnlyList<Limit> Limits,
        double Es256BlocksPerSecondPerCore,
        double TargetRatio,
        bool Met,
        int ProcessorCount,
        string LoadAverage,
        string Note);
}
