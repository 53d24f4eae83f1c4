using System.Text;

namespace Testbed.Torrent.Metainfo;

/// <summary>A BEP 9 magnet link: info hash (`xt=urn:btih:`, hex or base32), display name (`dn`), trackers (`tr`) and peers (`x.pe`).</summary>
/// <param name="InfoHash">The torrent's v1 info hash.</param>
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

    /// <summary>A link for a torrent, with its name and every tracker.</summary>
    public static MagnetLink FromMetainfo(TorrentMetainfo torrent)
    {
        ArgumentNullException.ThrowIfNull(torrent);
        return new MagnetLink(torrent.InfoHash, torrent.Info.Name, [.. torrent.TrackerTiers.SelectMany(t => t).Distinct(StringComparer.Ordinal)], []);
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
                    // Other parameters (xt=urn:btmh, ws, xl, so, ...) are allowed and ignored.
                    break;
            }
        }

        return infoHash is { } hash
            ? new MagnetLink(hash, name, trackers, peers)
            : throw new MetainfoException("magnet link has no 'xt=urn:btih:' info hash");
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
        var text = new StringBuilder(Scheme).Append("xt=").Append(BtihPrefix).Append(InfoHash.ToHex());
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
        other is not null && InfoHash == other.InfoHash && DisplayName == other.DisplayName
        && Trackers.SequenceEqual(other.Trackers, StringComparer.Ordinal) && Peers.SequenceEqual(other.Peers, StringComparer.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(InfoHash, DisplayName, Trackers.Count, Peers.Count);

    private static InfoHash ParseBtih(string text) =>
        InfoHash.TryParseHex(text, out var hex) ? hex
        : InfoHash.TryParseBase32(text, out var base32) ? base32
        : throw new MetainfoException($"magnet link info hash '{text}' is neither 40 hex digits nor 32 base32 characters");

    private static void Append(List<string> list, string value, string what)
    {
        if (list.Count >= MaxEntries)
        {
            throw new MetainfoException($"magnet link lists more than {MaxEntries} {what}");
        }

        list.Add(value);
    }
}
