using Testbed.Inspector.Telemetry;

namespace Testbed.Inspector.Query;

/// <summary>A peer's chain height at a moment, from a span that carried block.height.</summary>
public sealed record HeightPoint(double TimeUnixMs, long Height, string? BlockHash, string Span, string TraceId);

/// <summary>A reorganisation one peer made (a chain.reorg span).</summary>
public sealed record ReorgMark(string Peer, double TimeUnixMs, string? Depth, string? OldTip, string? NewTip, string TraceId);

/// <summary>One peer's heights over time and its latest tip.</summary>
public sealed record PeerChain(string Peer, IReadOnlyList<HeightPoint> Points, long? TipHeight, string? TipHash);

/// <summary>The chain view: every peer's height and tip over time, forks and reorgs, chaos faults on the same time axis.</summary>
public sealed record ChainSnapshot(IReadOnlyList<PeerChain> Peers, IReadOnlyList<ReorgMark> Reorgs, IReadOnlyList<FaultMark> Faults, IReadOnlyList<ForkMark> Forks);

/// <summary>A height at which peers hold different block hashes: a fork (resolved by a reorg, or not yet).</summary>
public sealed record ForkMark(long Height, IReadOnlyList<string> Hashes);

/// <summary>Builds the chain view from the kept spans.</summary>
public static class ChainView
{
    /// <summary>Spans whose block.height moves a peer's tip: the miner's own block, and a block replayed after receipt.</summary>
    private static readonly HashSet<string> TipSpans = new(StringComparer.Ordinal) { "block.mine", "vm.replay" };

    /// <summary>Most points returned per peer (the newest).</summary>
    public const int MaxPointsPerPeer = 2_000;

    /// <summary>The current chain snapshot.</summary>
    public static ChainSnapshot Build(SpanStore traces)
    {
        var spans = traces.AllSpans(s => TipSpans.Contains(s.Name) || s.Name == "chain.reorg" || s.Name == FaultMark.SpanName || s.Name == "block.receive");

        // vm.replay carries no block.hash (DESIGN.md): it replays a block of its trace, named by the trace's other spans
        // (by height, parent chain or info hash: a trace may hold several blocks).
        var owners = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        string? HashOf(SpanRecord span)
        {
            if (span.Attribute("block.hash") is { } hash)
            {
                return hash;
            }

            if (!owners.TryGetValue(span.TraceId, out var bySpanId))
            {
                bySpanId = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (owned, owner) in BlockAttribution.Assign(traces.Get(span.TraceId) ?? [span]))
                {
                    bySpanId.TryAdd(owned.SpanId, owner);
                }

                owners[span.TraceId] = bySpanId;
            }

            return bySpanId.GetValueOrDefault(span.SpanId);
        }

        var peers = spans.Where(s => TipSpans.Contains(s.Name) && s.Status != "Error")
            .Select(s => (Span: s, Height: long.TryParse(s.Attribute("block.height"), out var h) ? h : (long?)null))
            .Where(p => p.Height is not null)
            .GroupBy(p => p.Span.Peer, StringComparer.Ordinal)
            .OrderBy(g => g.Key, NaturalComparer.Instance)
            .Select(g =>
            {
                var points = g.OrderBy(p => p.Span.EndUnixNano)
                    .Select(p => new HeightPoint(p.Span.EndUnixNano / 1e6, p.Height!.Value, HashOf(p.Span), p.Span.Name, p.Span.TraceId))
                    .TakeLast(MaxPointsPerPeer)
                    .ToArray();
                var tip = points.LastOrDefault();
                return new PeerChain(g.Key, points, tip?.Height, tip?.BlockHash);
            })
            .ToArray();
        var reorgs = spans.Where(s => s.Name == "chain.reorg").OrderBy(s => s.StartUnixNano)
            .Select(s => new ReorgMark(s.Peer, s.StartUnixNano / 1e6, s.Attribute("reorg.depth"), s.Attribute("chain.old_tip"), s.Attribute("chain.new_tip"), s.TraceId))
            .ToArray();
        var faults = spans.Where(s => s.Name == FaultMark.SpanName).Select(FaultMark.From).OrderBy(f => f.StartUnixMs).ToArray();
        var forks = peers.SelectMany(p => p.Points)
            .Where(p => p.BlockHash is not null)
            .GroupBy(p => p.Height)
            .Select(g => new ForkMark(g.Key, g.Select(p => p.BlockHash!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray()))
            .Where(f => f.Hashes.Count > 1)
            .OrderBy(f => f.Height)
            .ToArray();
        return new ChainSnapshot(peers, reorgs, faults, forks);
    }
}
