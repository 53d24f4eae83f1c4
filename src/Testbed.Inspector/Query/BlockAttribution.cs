using System.Globalization;
using Testbed.Inspector.Telemetry;

namespace Testbed.Inspector.Query;

/// <summary>
/// Which block of a trace each span belongs to. A trace usually holds one block, but not always: blocks mined under one
/// request's trace, an orphan connected while its parent was received, a catch-up segment. And the contract does not
/// require block.hash on every stage (vm.replay carries block.height, torrent.download torrent.infohash).
/// </summary>
/// <remarks>
/// A span belongs to the block named by, in this order: its own <c>block.hash</c>; its <c>block.height</c> (the one block
/// of that height in the trace, the same peer's spans asked first); its parent chain (the nearest ancestor carrying a
/// block.hash, as torrent.download under block.receive); its <c>torrent.infohash</c> (a span carrying a block.hash and the
/// same info hash); else, when the trace holds a single block, that block. A span none of these place (a height two blocks
/// share and no ancestor, say) belongs to no block rather than to a guessed one.
/// </remarks>
internal static class BlockAttribution
{
    /// <summary>Most ancestors walked up from a span (a malformed trace may hold a cycle).</summary>
    private const int MaxDepth = 64;

    /// <summary>The block hashes of a trace in the order they first appear.</summary>
    public static IReadOnlyList<string> Hashes(IReadOnlyList<SpanRecord> spans) =>
        spans.Select(s => s.Attribute("block.hash")).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>The block hash each span of one trace belongs to; spans that belong to none are left out.</summary>
    public static IReadOnlyDictionary<SpanRecord, string> Assign(IReadOnlyList<SpanRecord> spans)
    {
        ArgumentNullException.ThrowIfNull(spans);
        var result = new Dictionary<SpanRecord, string>(ReferenceEqualityComparer.Instance);
        var hashes = Hashes(spans);
        if (hashes.Count == 0)
        {
            return result;
        }

        var byId = new Dictionary<string, SpanRecord>(StringComparer.Ordinal);
        var byPeerHeight = new Dictionary<(string Peer, long Height), HashSet<string>>();
        var byHeight = new Dictionary<long, HashSet<string>>();
        var byInfoHash = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var span in spans)
        {
            byId.TryAdd(span.SpanId, span);
            if (span.Attribute("block.hash") is not { } hash)
            {
                continue;
            }

            if (Height(span) is { } height)
            {
                Add(byPeerHeight, (span.Peer, height), hash);
                Add(byHeight, height, hash);
            }

            if (span.Attribute("torrent.infohash") is { Length: > 0 } infoHash)
            {
                Add(byInfoHash, infoHash, hash);
            }
        }

        foreach (var span in spans)
        {
            var owner = span.Attribute("block.hash") ?? ByHeight(span) ?? ByAncestor(span) ?? ByInfoHash(span) ?? (hashes.Count == 1 ? hashes[0] : null);
            if (owner is not null)
            {
                result[span] = owner;
            }
        }

        return result;

        string? ByHeight(SpanRecord span) => Height(span) is { } height
            ? Only(byPeerHeight.GetValueOrDefault((span.Peer, height))) ?? Only(byHeight.GetValueOrDefault(height))
            : null;

        string? ByAncestor(SpanRecord span)
        {
            var parentId = span.ParentSpanId;
            for (var depth = 0; depth < MaxDepth && parentId is not null && byId.TryGetValue(parentId, out var parent); depth++)
            {
                if (parent.Attribute("block.hash") is { } hash)
                {
                    return hash;
                }

                parentId = parent.ParentSpanId;
            }

            return null;
        }

        string? ByInfoHash(SpanRecord span) =>
            span.Attribute("torrent.infohash") is { Length: > 0 } infoHash ? Only(byInfoHash.GetValueOrDefault(infoHash)) : null;
    }

    /// <summary>A span's block.height as a number (the dashboard sends it as text).</summary>
    public static long? Height(SpanRecord span) =>
        long.TryParse(span.Attribute("block.height"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var height) ? height : null;

    private static string? Only(HashSet<string>? hashes) => hashes is { Count: 1 } ? hashes.First() : null;

    private static void Add<TKey>(Dictionary<TKey, HashSet<string>> map, TKey key, string hash)
        where TKey : notnull
    {
        if (!map.TryGetValue(key, out var set))
        {
            map[key] = set = new HashSet<string>(StringComparer.Ordinal);
        }

        set.Add(hash);
    }
}
