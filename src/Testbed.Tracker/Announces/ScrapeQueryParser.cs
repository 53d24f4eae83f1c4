using Testbed.Torrent.Metainfo;

namespace Testbed.Tracker.Announces;

/// <summary>Parses an HTTP scrape (BEP 48): one or more `info_hash` parameters, each 20 percent-encoded bytes.</summary>
public static class ScrapeQueryParser
{
    /// <summary>Longest scrape query accepted.</summary>
    public const int MaxQueryLength = 8192;

    /// <summary>Appends each info hash to <paramref name="infoHashes"/>; at least one, at most <paramref name="maxHashes"/>.</summary>
    public static bool TryParse(ReadOnlySpan<char> query, int maxHashes, List<InfoHash> infoHashes, out string? error)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        if (query.Length > MaxQueryLength)
        {
            error = $"query is {query.Length} characters, more than the {MaxQueryLength} allowed";
            return false;
        }

        Span<byte> scratch = stackalloc byte[InfoHash.Length];
        var parameters = new QueryParameters(query);
        while (parameters.MoveNext())
        {
            if (!parameters.Name.SequenceEqual("info_hash"))
            {
                continue;
            }

            if (!AnnounceQueryParser.TryDecode20(parameters.Value, scratch, out var bytes))
            {
                error = "info_hash must be 20 bytes, percent-encoded";
                return false;
            }

            if (infoHashes.Count == maxHashes)
            {
                error = $"more than {maxHashes} info_hash values in one scrape";
                return false;
            }

            var key = new InfoHash(bytes);
            if (!infoHashes.Contains(key))
            {
                infoHashes.Add(key);
            }
        }

        if (infoHashes.Count == 0)
        {
            error = "scrape needs at least one info_hash (this tracker does not offer a full scrape)";
            return false;
        }

        error = null;
        return true;
    }
}
