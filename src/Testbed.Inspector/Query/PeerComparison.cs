using Testbed.Inspector.Telemetry;

namespace Testbed.Inspector.Query;

/// <summary>One span on a peer's row of the comparison, timed from the start of the block's trace.</summary>
public sealed record StageTiming(string Name, string SpanId, double StartOffsetMs, double DurationMs, string? Result, bool Failed, bool Outlier);

/// <summary>One peer's receive → download → verify → replay timeline for a block.</summary>
public sealed record PeerTimeline(
    string Peer,
    IReadOnlyList<StageTiming> Stages,
    string? StateRoot,
    bool Diverged,
    double? PipelineMs,
    bool Outlier,
    IReadOnlyList<string> Problems);

/// <summary>A block seen by several peers: one row per peer, state roots compared, outliers flagged.</summary>
public sealed record BlockComparison(
    string TraceId,
    string BlockHash,
    string? Height,
    string? Miner,
    double StartUnixMs,
    double DurationMs,
    string? MajorityStateRoot,
    int DivergentPeers,
    int Outliers,
    int Problems,
    IReadOnlyList<PeerTimeline> Peers,
    IReadOnlyList<FaultMark> Faults)
{
    /// <summary>This trace's page in the Aspire dashboard (set by the API).</summary>
    public string? DashboardTraceUrl { get; init; }
}

/// <summary>A row of the block list: enough to pick a block to compare.</summary>
public sealed record BlockSummary(
    string TraceId,
    string BlockHash,
    string? Height,
    string? Miner,
    double StartUnixMs,
    int PeerCount,
    int DivergentPeers,
    int Outliers,
    int Problems)
{
    /// <summary>This trace's page in the Aspire dashboard (set by the API).</summary>
    public string? DashboardTraceUrl { get; init; }
}

/// <summary>
/// Builds the peer comparison: the spans of one block's trace (grouped by trace id and block.hash),
/// one row per peer, stages in pipeline order, state roots after vm.replay compared against the majority.
/// </summary>
public static class PeerComparison
{
    /// <summary>
    /// Pipeline order of the stages; spans with other names sort after these by start time. block.produce (the miner's
    /// root span, enclosing its mine/sign/announce) comes first so the UI draws it beneath the stages it encloses.
    /// </summary>
    public static readonly IReadOnlyList<string> StageOrder =
    [
        "block.produce", "block.mine", "block.sign", "block.announce", "block.receive", "torrent.download", "block.connect", "block.sync",
        "block.verify.signature", "block.verify.pow", "block.verify.transactions", "vm.replay",
    ];

    /// <summary>A stage is an outlier when it takes this many times the median of the peers, and at least <see cref="OutlierMinimumMs"/> more.</summary>
    public const double OutlierFactor = 2.0;

    /// <summary>Absolute slack below which a slower stage is never an outlier (scheduling noise).</summary>
    public const double OutlierMinimumMs = 1.0;

    /// <summary>Blocks seen in the kept traces, most recent first.</summary>
    public static IReadOnlyList<BlockSummary> List(SpanStore traces, int limit)
    {
        var result = new List<BlockSummary>();
        var faults = Faults(traces);
        foreach (var traceId in traces.TraceIds(s => s.Attribute("block.hash") is not null))
        {
            if (result.Count >= limit)
            {
                break;
            }

            foreach (var block in Build(traceId, traces.Get(traceId) ?? [], faults).TakeWhile(_ => result.Count < limit))
            {
                result.Add(new BlockSummary(block.TraceId, block.BlockHash, block.Height, block.Miner, block.StartUnixMs,
                    block.Peers.Count, block.DivergentPeers, block.Outliers, block.Problems));
            }
        }

        return result;
    }

    /// <summary>The comparisons of trace <paramref name="traceId"/>: one per block hash in it (usually one).</summary>
    public static IReadOnlyList<BlockComparison> ForTrace(SpanStore traces, string traceId) =>
        Build(traceId, traces.Get(traceId) ?? [], Faults(traces));

    /// <summary>Every chaos.fault span kept.</summary>
    public static IReadOnlyList<FaultMark> Faults(SpanStore traces) =>
        traces.AllSpans(s => s.Name == FaultMark.SpanName).Select(FaultMark.From).OrderBy(f => f.StartUnixMs).ToArray();

    internal static IReadOnlyList<BlockComparison> Build(string traceId, IReadOnlyList<SpanRecord> spans, IReadOnlyList<FaultMark> faults)
    {
        // A trace may hold several blocks, and vm.replay and torrent.download carry no block.hash: each span goes to its
        // block by hash, height, parent chain or info hash (BlockAttribution).
        var owners = BlockAttribution.Assign(spans);
        var result = new List<BlockComparison>();
        foreach (var hash in BlockAttribution.Hashes(spans))
        {
            var blockSpans = spans.Where(s => s.Name != FaultMark.SpanName && owners.TryGetValue(s, out var owner) && owner == hash).ToArray();
            if (blockSpans.Length == 0)
            {
                continue;
            }

            result.Add(Compare(traceId, hash, blockSpans, faults));
        }

        return result;
    }

    private static BlockComparison Compare(string traceId, string hash, IReadOnlyList<SpanRecord> spans, IReadOnlyList<FaultMark> faults)
    {
        var start = spans.Min(s => s.StartUnixNano);
        var end = spans.Max(s => s.EndUnixNano);
        // The block's own spans name its height; a replay of another height in its trace (a reorganisation's) does not.
        var height = spans.Where(s => s.Attribute("block.hash") == hash).Select(s => s.Attribute("block.height")).FirstOrDefault(h => h is not null)
            ?? spans.Select(s => s.Attribute("block.height")).FirstOrDefault(h => h is not null);
        var miner = spans.FirstOrDefault(s => s.Name is "block.mine" or "block.produce")?.Peer;

        var byPeer = spans.GroupBy(s => s.Peer, StringComparer.Ordinal).OrderBy(g => g.Key, NaturalComparer.Instance).ToArray();
        var roots = byPeer.ToDictionary(g => g.Key, g => StateRoot(g, height), StringComparer.Ordinal);
        var majority = roots.Values.OfType<string>().GroupBy(r => r, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key).FirstOrDefault();

        // Medians per stage name across peers, for the outlier test. The miner's stages are another job than a receiver's
        // of the same name (its block.announce reaches every peer, a receiver's relays it), so they are compared apart:
        // a group of one peer never has outliers.
        var medians = spans.GroupBy(s => (s.Name, Miner: s.Peer == miner))
            .ToDictionary(g => g.Key, g => (Count: g.Select(s => s.Peer).Distinct(StringComparer.Ordinal).Count(), Median: Median(g.Select(s => s.DurationMs))));
        var pipelines = byPeer.ToDictionary(g => g.Key, g => Pipeline(g.ToArray()), StringComparer.Ordinal);
        var pipelineMedian = Median(pipelines.Values.OfType<double>());
        var pipelineCount = pipelines.Values.Count(p => p is not null);

        var peers = new List<PeerTimeline>();
        foreach (var group in byPeer)
        {
            // A block kept as an orphan and connected once its parent came (an accepting block.connect) was not refused.
            var connected = group.Any(s => s.Name == "block.connect" && s.Status != "Error" && s.Attribute("result") is { } r && IsSuccess(r));
            var stages = group
                .OrderBy(s => StageRank(s.Name)).ThenBy(s => s.StartUnixNano)
                .Select(s =>
                {
                    var result = s.Attribute("result");
                    var failed = s.Status == "Error"
                        || (result is not null && !IsSuccess(result) && !(connected && string.Equals(result, "Orphan", StringComparison.OrdinalIgnoreCase)));
                    var (count, median) = medians[(s.Name, s.Peer == miner)];
                    return new StageTiming(s.Name, s.SpanId, (s.StartUnixNano - start) / 1e6, s.DurationMs, result, failed, IsOutlier(s.DurationMs, median, count));
                })
                .ToArray();
            var root = roots[group.Key];
            var diverged = root is not null && majority is not null && root != majority;
            var problems = new List<string>();
            if (diverged)
            {
                problems.Add($"state root {Short(root!)} differs from the majority {Short(majority!)}");
            }

            problems.AddRange(stages.Where(s => s.Failed).Select(s => $"{s.Name} failed{(s.Result is null ? "" : $" ({s.Result})")}"));
            if (stages.Any(s => s.Name == "block.receive") && !stages.Any(s => s.Name == "vm.replay"))
            {
                problems.Add("received but not replayed");
            }

            var pipeline = pipelines[group.Key];
            var outlier = pipeline is { } ms && IsOutlier(ms, pipelineMedian, pipelineCount);
            peers.Add(new PeerTimeline(group.Key, stages, root, diverged, pipeline, outlier || stages.Any(s => s.Outlier), problems));
        }

        var startMs = start / 1e6;
        var endMs = end / 1e6;
        return new BlockComparison(
            traceId,
            hash,
            height,
            miner,
            startMs,
            Math.Max(0, end - start) / 1e6,
            majority,
            peers.Count(p => p.Diverged),
            peers.Count(p => p.Outlier),
            peers.Sum(p => p.Problems.Count),
            peers,
            faults.Where(f => f.Overlaps(startMs, endMs, 1000)).ToArray());
    }

    /// <summary>
    /// A peer's state root after the block: its vm.replay of the block's height (a reorganisation replays others in the
    /// same trace), else its last replay to end.
    /// </summary>
    private static string? StateRoot(IEnumerable<SpanRecord> spans, string? height)
    {
        var replays = spans.Where(s => s.Name == "vm.replay" && s.Attribute("vm.state_root") is not null).OrderBy(s => s.EndUnixNano).ToArray();
        var ofHeight = replays.LastOrDefault(s => height is not null && s.Attribute("block.height") == height);
        return (ofHeight ?? replays.LastOrDefault())?.Attribute("vm.state_root");
    }

    /// <summary>Receive start to replay end (or mine start to mine end for the miner).</summary>
    private static double? Pipeline(IReadOnlyList<SpanRecord> spans)
    {
        var first = spans.Where(s => s.Name == "block.receive").Select(s => (long?)s.StartUnixNano).Min();
        var last = spans.Where(s => s.Name == "vm.replay").Select(s => (long?)s.EndUnixNano).Max();
        return first is { } a && last is { } b && b >= a ? (b - a) / 1e6 : null;
    }

    private static bool IsOutlier(double value, double median, int peers) =>
        peers >= 3 && value > median * OutlierFactor && value - median >= OutlierMinimumMs;

    /// <summary>
    /// Results that are not failures: generic ones, the miner's (found, superseded by another block), the catch-up's
    /// (downloaded), and the chain's accepting AddBlockStatus values (Connected, SideBranch, Reorganized, Duplicate).
    /// </summary>
    private static readonly HashSet<string> SuccessResults = new(StringComparer.OrdinalIgnoreCase)
    {
        "ok", "valid", "true", "success", "accepted", "found", "superseded", "downloaded", "connected", "sidebranch", "reorganized", "duplicate",
    };

    /// <summary>Whether a span's <c>result</c> is one of the successes.</summary>
    public static bool IsSuccess(string result) => SuccessResults.Contains(result);

    private static int StageRank(string name)
    {
        for (var i = 0; i < StageOrder.Count; i++)
        {
            if (StageOrder[i] == name)
            {
                return i;
            }
        }

        return StageOrder.Count;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return 0;
        }

        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Short(string root) => root.Length > 12 ? root[..12] + "…" : root;
}
