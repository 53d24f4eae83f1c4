using Testbed.Inspector.Telemetry;

namespace Testbed.Inspector.Query;

/// <summary>A peer in the peer list: how many spans and blocks of it are held, and its tip.</summary>
public sealed record PeerSummary(string Peer, int Spans, int Failures, long? TipHeight, string? TipHash);

/// <summary>One block as one peer saw it: its role, its pipeline and what went wrong there.</summary>
public sealed record PeerBlock(
    string TraceId,
    string BlockHash,
    string? Height,
    string Role,
    double StartUnixMs,
    IReadOnlyList<string> Stages,
    string? StateRoot,
    bool Diverged,
    bool Outlier,
    double? PipelineMs,
    IReadOnlyList<string> Problems)
{
    /// <summary>This trace's page in the Aspire dashboard (set by the API).</summary>
    public string? DashboardTraceUrl { get; init; }
}

/// <summary>A failed span of the peer: status Error, or a result that is not a success.</summary>
public sealed record PeerFailure(string TraceId, string SpanId, string Name, double StartUnixMs, double DurationMs, string Status, string? StatusMessage, string? Result, string? BlockHash)
{
    /// <summary>This trace's page in the Aspire dashboard (set by the API).</summary>
    public string? DashboardTraceUrl { get; init; }
}

/// <summary>The inspector's view of one peer: its blocks (newest first), its failures, its chain tip, its reorgs and the faults aimed at it.</summary>
public sealed record PeerReport(
    string Peer,
    IReadOnlyList<string> Services,
    int Spans,
    long? TipHeight,
    string? TipHash,
    int BlocksMined,
    int BlocksReceived,
    IReadOnlyList<PeerBlock> Blocks,
    IReadOnlyList<PeerFailure> Failures,
    IReadOnlyList<ReorgMark> Reorgs,
    IReadOnlyList<FaultMark> Faults);

/// <summary>Builds the per-peer views from the held spans.</summary>
public static class PeerView
{
    /// <summary>Most blocks and failures listed for one peer (the newest).</summary>
    public const int MaxItems = 500;

    /// <summary>Every peer with a held span, in natural order (peer-2 before peer-10).</summary>
    public static IReadOnlyList<PeerSummary> List(SpanStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var tips = ChainView.Build(store).Peers.ToDictionary(p => p.Peer, StringComparer.Ordinal);
        return store.AllSpans(s => s.Name != FaultMark.SpanName)
            .GroupBy(s => s.Peer, StringComparer.Ordinal)
            .Select(g => new PeerSummary(g.Key, g.Count(), g.Count(IsFailure),
                tips.GetValueOrDefault(g.Key)?.TipHeight, tips.GetValueOrDefault(g.Key)?.TipHash))
            .OrderBy(p => p.Peer, NaturalComparer.Instance)
            .ToArray();
    }

    /// <summary>The view of peer <paramref name="peer"/>, or null when no span of it is held.</summary>
    public static PeerReport? Build(SpanStore store, string peer)
    {
        ArgumentNullException.ThrowIfNull(store);
        var spans = store.AllSpans(s => s.Peer == peer && s.Name != FaultMark.SpanName);
        if (spans.Count == 0)
        {
            return null;
        }

        var faults = PeerComparison.Faults(store);
        var blocks = new List<PeerBlock>();
        foreach (var traceId in store.TraceIds(s => s.Peer == peer && s.Attribute("block.hash") is not null))
        {
            if (blocks.Count >= MaxItems)
            {
                break;
            }

            foreach (var block in PeerComparison.Build(traceId, store.Get(traceId) ?? [], faults))
            {
                var lane = block.Peers.FirstOrDefault(p => p.Peer == peer);
                if (lane is null)
                {
                    continue;
                }

                blocks.Add(new PeerBlock(block.TraceId, block.BlockHash, block.Height, block.Miner == peer ? "miner" : "receiver", block.StartUnixMs,
                    lane.Stages.Select(s => s.Name).ToArray(), lane.StateRoot, lane.Diverged, lane.Outlier, lane.PipelineMs, lane.Problems));
            }
        }

        var failures = spans.Where(IsFailure)
            .OrderByDescending(s => s.StartUnixNano)
            .Take(MaxItems)
            .Select(s => new PeerFailure(s.TraceId, s.SpanId, s.Name, s.StartUnixNano / 1e6, s.DurationMs, s.Status, s.StatusMessage, s.Attribute("result"), s.Attribute("block.hash")))
            .ToArray();
        var chain = ChainView.Build(store);
        var tip = chain.Peers.FirstOrDefault(p => p.Peer == peer);
        return new PeerReport(
            peer,
            spans.Select(s => s.ServiceName).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
            spans.Count,
            tip?.TipHeight,
            tip?.TipHash,
            blocks.Count(b => b.Role == "miner"),
            blocks.Count(b => b.Role == "receiver"),
            blocks,
            failures,
            chain.Reorgs.Where(r => r.Peer == peer).ToArray(),
            faults.Where(f => Targets(f, peer)).ToArray());
    }

    /// <summary>A span that failed: status Error, or a <c>result</c> that is not one of the successes.</summary>
    public static bool IsFailure(SpanRecord span)
    {
        ArgumentNullException.ThrowIfNull(span);
        return span.Status == "Error" || (span.Attribute("result") is { } result && !PeerComparison.IsSuccess(result));
    }

    /// <summary>Whether a fault names <paramref name="peer"/> among its targets (comma- or space-separated, or "*"/"all").</summary>
    public static bool Targets(FaultMark fault, string peer)
    {
        ArgumentNullException.ThrowIfNull(fault);
        if (string.IsNullOrWhiteSpace(fault.Targets))
        {
            return false;
        }

        foreach (var target in fault.Targets.Split([',', ' ', ';', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (target is "*" or "all" || string.Equals(target, peer, StringComparison.Ordinal) || target.StartsWith(peer + ":", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Orders names the way people read them: peer-2 before peer-10.</summary>
public sealed class NaturalComparer : IComparer<string>
{
    public static NaturalComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return string.CompareOrdinal(x, y);
        }

        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                var si = i;
                var sj = j;
                while (i < x.Length && char.IsAsciiDigit(x[i]))
                {
                    i++;
                }

                while (j < y.Length && char.IsAsciiDigit(y[j]))
                {
                    j++;
                }

                var a = x.AsSpan(si, i - si).TrimStart('0');
                var b = y.AsSpan(sj, j - sj).TrimStart('0');
                var byNumber = a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.SequenceCompareTo(b);
                if (byNumber != 0)
                {
                    return byNumber;
                }

                continue;
            }

            var c = x[i].CompareTo(y[j]);
            if (c != 0)
            {
                return c;
            }

            i++;
            j++;
        }

        return (x.Length - i).CompareTo(y.Length - j);
    }
}
