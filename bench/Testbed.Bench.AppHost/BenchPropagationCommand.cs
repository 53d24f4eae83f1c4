using Testbed.Contracts.Settings;

namespace Testbed.Bench.AppHost;

/// <summary>
/// <c>bench propagation [--peers N] [--blocks M] [--transactions T] [--rounds R] [--difficulty B] [--json]</c>: the tracker
/// and N peers of the testbed model, talking directly (no chaos, no fault proxy); each round mines M blocks one at a time
/// round robin, each carrying T transactions gossiped to every peer beforehand, and times every delivery from the miner's
/// nonce found to the block replayed and stored on each other peer (the peers' /timings, one machine clock). Rounds
/// alternate with the limit, an fsync of a small new file in the peers' data root. Exit code 0 when the medians of the
/// rounds' p50 and p99 meet 10 ms and 40 ms, 1 when not, 2 for unusable arguments.
/// </summary>
public static class BenchPropagationCommand
{
    private static readonly BenchTarget P50Target = BenchTarget.AtMost(10);
    private static readonly BenchTarget P99Target = BenchTarget.AtMost(40);
    private const int FsyncsPerRound = 100;
    private const string Ms = "ms";
    private const string Propagation = "propagation";
    private const string Fsync = "fsync: create + write 4 KiB + fsync";

    /// <summary>The peer's own segment size: propagation does not catch up by segments, and its figures were taken so.</summary>
    private const int SegmentBlocks = 256;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    /// <summary>What one run was asked for.</summary>
    private sealed record Settings(int Peers, int Blocks, int Transactions, int Rounds, int DifficultyBits);

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var peers = new Option<int>("--peers") { Description = "Peer processes (2..32, default 8)", DefaultValueFactory = _ => 8 };
        var blocks = new Option<int>("--blocks") { Description = "Blocks measured per round (1..1000, default 24), mined one at a time round robin", DefaultValueFactory = _ => 24 };
        var transactions = new Option<int>("--transactions") { Description = "Transactions in every block (0..200, default 100), gossiped to every peer before it is mined", DefaultValueFactory = _ => 100 };
        var difficulty = new Option<int>("--difficulty") { Description = "Difficulty bits (1..64, default 8: low, to leave the CPU to propagation)", DefaultValueFactory = _ => 8 };
        var shared = new BenchOptions();
        var command = new Command("propagation", "Nonce found on the miner to replayed on every other peer, p50/p99 per round against 10 ms / 40 ms, beside the fsync limit measured in the same run");
        foreach (var option in new Option[] { peers, blocks, transactions, shared.Rounds, difficulty, shared.Json })
        {
            command.Options.Add(option);
        }

        shared.SetAction(
            command,
            parse => new Settings(parse.GetValue(peers), parse.GetValue(blocks), parse.GetValue(transactions), parse.GetValue(shared.Rounds), parse.GetValue(difficulty)),
            settings => settings is { Peers: < 2 or > TestbedSettings.MaxPeers } or { Blocks: < 1 or > 1000 } or { Transactions: < 0 or > 200 }
                ? $"error: --peers must be 2..{TestbedSettings.MaxPeers}, --blocks 1..1000, --transactions 0..200"
                : !PeerSettings.DifficultyBits.Allows(settings.DifficultyBits)
                    ? $"error: {PeerSettings.DifficultyBits.Refusal(settings.DifficultyBits.ToString(CultureInfo.InvariantCulture), "--difficulty")}"
                    : null,
            RunAsync,
            Print,
            r => r.Met);
        return command;
    }

    private static async Task<PropagationResult> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        var builder = HeadlessTestbed.CreateBuilder();
        var model = new TestbedModel(builder, new TestbedSettings(settings.Peers, settings.DifficultyBits) { DirectLinks = true, SegmentBlocks = SegmentBlocks });
        var resources = model.AddPeers(model.AddTracker());
        await using var testbed = await HeadlessTestbed.StartAsync(builder, model, StartTimeout, cancellationToken);
        using var client = new BenchPeers(model);
        var peers = resources.Select(r => BenchPeers.Of(testbed, r)).ToList();
        await client.WaitAsync(peers, s => s.ConnectedPeers.Count == settings.Peers - 1, cancellationToken);

        // Warm-up (JIT of every path, connections, the first torrents), not measured.
        var round = 0;
        await MineRoundAsync(client, peers, settings with { Blocks = 2 }, "warm-up", cancellationToken);
        var deliveries = new List<int>();
        var sides = new[]
        {
            new Side(Propagation, PropagationRound.Metrics, async token =>
            {
                var figures = await MineRoundAsync(client, peers, settings, $"r{round++}", token);
                deliveries.Add(figures.Deliveries);
                return figures.Values;
            }),
            Side.Sync(Fsync, [Ms], () => [FsyncProbe.MedianMs(model.DataRoot, FsyncsPerRound)]),
        };
        var measured = await Interleaved.RunAsync(settings.Rounds, sides, cancellationToken);

        var series = measured.PerMetric(Propagation, Ms).Append(measured.Find(Fsync, Ms)).ToArray();
        var p50 = series.Find(PropagationRound.Metrics[0], Ms);
        var p99 = series.Find(PropagationRound.Metrics[1], Ms);
        var limit = new Limit($"create + write {FsyncProbe.Bytes} bytes + fsync of a new file in the peers' data root, median of {FsyncsPerRound} a round (a stored block costs at least one)", measured.Find(Fsync, Ms));
        return new PropagationResult(
            Bench: Propagation,
            Peers: settings.Peers,
            BlocksPerRound: settings.Blocks,
            TransactionsPerBlock: settings.Transactions,
            DifficultyBits: settings.DifficultyBits,
            Rounds: settings.Rounds,
            Order: "each round mines its blocks, then fsyncs; the order alternates every round",
            DeliveriesPerRound: [.. deliveries],
            Series: series,
            Ratios: [Ratio.Of(p50, limit.Measured), Ratio.Of(p99, limit.Measured)],
            Limit: limit,
            TargetP50Ms: P50Target.Goal,
            TargetP99Ms: P99Target.Goal,
            P50Ms: p50.Median,
            P99Ms: p99.Median,
            Met: P50Target.MetBy(p50.Median) && P99Target.MetBy(p99.Median),
            ProcessorCount: Environment.ProcessorCount,
            LoadAverage: LoadAverage.Read(),
            Note: "a delivery runs from the miner's nonce found (block signed) to the block replayed and stored on another peer; p50, p99, min and max are of one round's deliveries, each series is of the rounds");
    }

    /// <summary>
    /// Mines <see cref="Settings.Blocks"/> blocks round robin, each after its transactions reached every mempool, each
    /// waited for on every peer (height reached, mempool empty: the block took all of them); the round's figures.
    /// </summary>
    private static async Task<PropagationRound> MineRoundAsync(BenchPeers client, IReadOnlyList<BenchPeer> peers, Settings settings, string tag, CancellationToken cancellationToken)
    {
        var mined = new HashSet<string>(StringComparer.Ordinal);
        var since = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < settings.Blocks; i++)
        {
            var miner = peers[i % peers.Count];
            if (settings.Transactions > 0)
            {
                await client.SubmitAsync(miner, settings.Transactions, $"{tag}-{i}", cancellationToken);
                await client.WaitAsync(peers, s => s.Mempool >= settings.Transactions, cancellationToken, pollMs: 20);
            }

            var block = await client.MineAsync(miner, 1, cancellationToken);
            mined.Add(block.Hash);
            await client.WaitAsync(peers, s => s.Height >= block.Height && s.Mempool == 0, cancellationToken, pollMs: 20);
        }

        return PropagationRound.From(mined, await Task.WhenAll(peers.Select(p => client.TimingsAsync(p, since, cancellationToken))));
    }

    private static void Print(PropagationResult r)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"bench propagation: {r.Peers} peers talking directly, {r.BlocksPerRound} blocks a round of {r.TransactionsPerBlock} transactions each, difficulty {r.DifficultyBits} bits; {r.Rounds} rounds, interleaved with the limit ({r.Order})"));
        BenchFigures.PrintFigures(r.Series, [$"  deliveries per round: {string.Join(' ', r.DeliveriesPerRound)}"], r.Ratios, [r.Limit]);
        Console.WriteLine(string.Create(c, $"target: delivery p50 <= {r.TargetP50Ms} ms: median {Figure.Format(r.P50Ms)} ms, {BenchFigures.Verdict(P50Target.MetBy(r.P50Ms))}; p99 <= {r.TargetP99Ms} ms: median {Figure.Format(r.P99Ms)} ms, {BenchFigures.Verdict(P99Target.MetBy(r.P99Ms))}"));
        BenchFigures.PrintClosing(r.LoadAverage, r.ProcessorCount, r.Note);
    }

    /// <summary>Figures of one <c>bench propagation</c> run: the text prints these, --json writes them.</summary>
    private sealed record PropagationResult(
        string Bench,
        int Peers,
        int BlocksPerRound,
        int TransactionsPerBlock,
        int DifficultyBits,
        int Rounds,
        string Order,
        int[] DeliveriesPerRound,
        IReadOnlyList<Series> Series,
        IReadOnlyList<Ratio> Ratios,
        Limit Limit,
        double TargetP50Ms,
        double TargetP99Ms,
        double P50Ms,
        double P99Ms,
        bool Met,
        int ProcessorCount,
        string LoadAverage,
        string Note);
}
