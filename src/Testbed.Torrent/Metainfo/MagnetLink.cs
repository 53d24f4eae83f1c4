using System.Text;

namespace Testbed.Torrent.Metainfo;

/// <summary>
/// A BEP 9 magnet link: info hash (`xt=urn:btih:`, hex or base32, and/or BEP 52's `xt=urn:btmh:1220` SHA-256 multihash),
/// display name (`dn`), trackers (`tr`) and peers (`x.pe`).
/// </summary>
/// <param name="InfoHash">The 20-byte hash for the wire: the v1 info hash, or for a v2-only link the truncated v2 one.</param>
/// <param name="DisplayName">The suggested name, if any.</param>
/// <param name="Trackers">Tracker URLs, in the order given.</param>
/// <param name="Peers">Peer addresses (`host:port`) to try directly.</param>
public sealed record MagnetLink(InfoHash InfoHash, string? DisplayName, IReadOnlyList<string> Trackers, IReadOnlyList<string> Peers)
{
    /// <summary>Longest magnet link accepted, in characters.</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>Most trackers or peers accepted in one link.</summary>
    public const int MaxEntries = 256;

    private const string Scheme = "magnet:?";
    private const string BtihPrefix = "urn:btih:";
    private const string BtmhPrefix = "urn:btmh:";

    // Multihash header of a SHA2-256 digest: function code 0x12, digest length 0x20.
    private const string Sha256Multihash = "1220";

    /// <summary>The v2 info hash from `xt=urn:btmh:`, if the link has one.</summary>
    public InfoHashV2? InfoHashV2 { get; init; }

    /// <summary>Whether the link names a v1 swarm (`urn:btih`): false for a v2-only link.</summary>
    public bool HasV1 => InfoHashV2 is not { } v2 || v2.Truncated != InfoHash;

    /// <summary>A link for a torrent, with its name and every tracker.</summary>
    public static MagnetLink FromMetainfo(TorrentMetainfo torrent)
    {
        ArgumentNullException.ThrowIfNull(torrent);
        return new MagnetLink(torrent.InfoHash, torrent.Info.Name, [.. torrent.TrackerTiers.SelectMany(t => t).Distinct(StringComparer.Ordinal)], [])
        {
            InfoHashV2 = torrent.Info.InfoHashV2,
        };
    }

    /// <summary>Parses a magnet link; throws a <see cref="MetainfoException"/> naming what was wrong.</summary>
    public static MagnetLink Parse(string link)
    {
        ArgumentNullException.ThrowIfNull(link);
        if (link.Length > MaxLength)
        {
            throw new MetainfoException($"magnet link of {link.Length} characters is longer than {MaxLength}");
        }

        if (!link.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new MetainfoException("not a magnet link: it must start with 'magnet:?'");
        }

        InfoHash? infoHash = null;
        InfoHashV2? infoHashV2 = null;
        string? name = null;
        var trackers = new List<string>();
        var peers = new List<string>();
        foreach (var parameter in link[Scheme.Length..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new MetainfoException($"magnet link parameter '{parameter}' has no value");
            }

            var key = parameter[..equals];
            string value;
            try
            {
                value = Encoding.UTF8.GetString(PercentEncoding.Decode(parameter[(equals + 1)..], plusIsSpace: true));
            }
            catch (FormatException error)
            {
                throw new MetainfoException($"magnet link parameter '{key}': {error.Message}", error);
            }

            switch (key)
            {
                case "xt" when value.StartsWith(BtihPrefix, StringComparison.OrdinalIgnoreCase):
                    var parsed = ParseBtih(value[BtihPrefix.Length..]);
                    if (infoHash is not null && infoHash != parsed)
                    {
                        throw new MetainfoException("magnet link has two different urn:btih info hashes");
                    }

                    infoHash = parsed;
                    break;
                case "xt" when value.StartsWith(BtmhPrefix, StringComparison.OrdinalIgnoreCase):
                    var parsedV2 = ParseBtmh(value[BtmhPrefix.Length..]);
                    if (infoHashV2 is not null && infoHashV2 != parsedV2)
                    {
                        throw new MetainfoException("magnet link has two different urn:btmh info hashes");
                    }

                    infoHashV2 = parsedV2;
                    break;
                case "dn":
                    name = value;
                    break;
                case "tr":
                    Append(trackers, value, "trackers");
                    break;
                case "x.pe":
                    Append(peers, value, "peers");
                    break;
                default:
                    // Other parameters (ws, xl, so, ...) are allowed and ignored.
                    break;
            }
        }

        var wireHash = infoHash ?? infoHashV2?.Truncated ?? throw new MetainfoException("magnet link has no 'xt=urn:btih:' or 'xt=urn:btmh:' info hash");
        return new MagnetLink(wireHash, name, trackers, peers) { InfoHashV2 = infoHashV2 };
    }

    /// <summary>Tries to parse a magnet link.</summary>
    public static bool TryParse(string? link, out MagnetLink? magnet)
    {
        magnet = null;
        if (link is null)
        {
            return false;
        }

        try
        {
            magnet = Parse(link);
            return true;
        }
        catch (MetainfoException)
        {
            return false;
        }
    }

    /// <summary>The link text, with the info hash in hex and other values percent-encoded.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Scheme);
        if (HasV1)
        {
            text.Append("xt=").Append(BtihPrefix).Append(InfoHash.ToHex());
        }

        if (InfoHashV2 is { } v2)
        {
            text.Append(HasV1 ? "&" : string.Empty).Append("xt=").Append(BtmhPrefix).Append(Sha256Multihash).Append(v2.ToHex());
        }

        if (DisplayName is not null)
        {
            text.Append("&dn=").Append(PercentEncoding.Encode(Encoding.UTF8.GetBytes(DisplayName)));
        }

        foreach (var tracker in Trackers)
        {
            text.Append("&tr=").Append(PercentEncoding.Encode(Encoding.UTF8.GetBytes(tracker)));
        }

        foreach (var peer in Peers)
        {
            text.Append("&x.pe=").Append(PercentEncoding.Encode(Encoding.UTF8.GetBytes(peer)));
        }

        return text.ToString();
    }

    /// <inheritdoc />
    public bool Equals(MagnetLink? other) =>
        other is not null && InfoHash == other.InfoHash && InfoHashV2 == other.InfoHashV2 && DisplayName == other.DisplayName
        && Trackers.SequenceEqual(other.Trackers, StringComparer.Ordinal) && Peers.SequenceEqual(other.Peers, StringComparer.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(InfoHash, DisplayName, Trackers.Count, Peers.Count);

    private static InfoHash ParseBtih(string text) =>
        InfoHash.TryParseHex(text, out var hex) ? hex
        : InfoHash.TryParseBase32(text, out var base32) ? base32
        : throw new MetainfoException($"magnet link info hash '{text}' is neither 40 hex digits nor 32 base32 characters");

    private static InfoHashV2 ParseBtmh(string text)
    {
        if (!text.StartsWith(Sha256Multihash, StringComparison.Ordinal))
        {
            throw new MetainfoException($"magnet link urn:btmh '{Shorten(text)}' is not a SHA-256 multihash (it must start with {Sha256Multihash})");
        }

        return Metainfo.InfoHashV2.TryParseHex(text[Sha256Multihash.Length..], out var hash)
            ? hash
            : throw new MetainfoException($"magnet link urn:btmh '{Shorten(text)}' does not have 64 hex digits after {Sha256Multihash}");
    }

    private static string Shorten(string text) => text.Length > 80 ? string.Concat(text.AsSpan(0, 80), "...") : text;

    private static void Append(List<string> list, string value, string what)
    {
        if (list.Count >= MaxEntries)
        {
            throw new MetainfoException($"magnet link lists more than {MaxEntries} {what}");
        }

        list.Add(value);
    }
}
