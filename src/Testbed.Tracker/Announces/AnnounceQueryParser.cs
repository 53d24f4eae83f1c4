using System.Globalization;
using System.Net;
using Testbed.Tracker.Swarms;
using Testbed.Torrent.Metainfo;

namespace Testbed.Tracker.Announces;

/// <summary>
/// Parses an HTTP announce (BEP 3, BEP 23) straight from the raw query string: binary `info_hash`
/// and `peer_id` percent-decoded byte for byte, every number range-checked, and an error that names
/// the offending parameter for anything malformed.
/// </summary>
public static class AnnounceQueryParser
{
    /// <summary>Longest query accepted; real announces are a few hundred characters.</summary>
    public const int MaxQueryLength = 4096;

    /// <summary>Longest `key` accepted, in decoded bytes.</summary>
    public const int MaxKeyLength = 128;

    /// <summary>Parses <paramref name="query"/> (with or without its leading `?`).</summary>
    public static bool TryParse(ReadOnlySpan<char> query, out AnnounceRequest request, out string? error)
    {
        request = default;
        if (query.Length > MaxQueryLength)
        {
            error = $"query is {query.Length} characters, more than the {MaxQueryLength} allowed";
            return false;
        }

        InfoHash? infoHash = null;
        PeerId? peerId = null;
        int? port = null;
        long uploaded = 0, downloaded = 0, left = -1;
        var announceEvent = TrackerEvent.None;
        var numWant = -1;
        uint? key = null;
        PeerAddress? claimed = null;
        var compact = true;
        var noPeerId = false;
        Span<byte> scratch = stackalloc byte[MaxKeyLength];

        var parameters = new QueryParameters(query);
        while (parameters.MoveNext())
        {
            var name = parameters.Name;
            var value = parameters.Value;
            switch (name)
            {
                case "info_hash":
                    if (infoHash is not null)
                    {
                        return Fail("info_hash given more than once", out error);
                    }

                    if (!TryDecode20(value, scratch, out var hashBytes))
                    {
                        return Fail($"info_hash must be 20 bytes, percent-encoded", out error);
                    }

                    infoHash = new InfoHash(hashBytes);
                    break;
                case "peer_id":
                    if (peerId is not null)
                    {
                        return Fail("peer_id given more than once", out error);
                    }

                    if (!TryDecode20(value, scratch, out var idBytes))
                    {
                        return Fail("peer_id must be 20 bytes, percent-encoded", out error);
                    }

                    peerId = new PeerId(idBytes);
                    break;
                case "port":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsedPort) || parsedPort > ushort.MaxValue)
                    {
                        return Fail("port must be a number from 0 to 65535", out error);
                    }

                    port = parsedPort;
                    break;
                case "uploaded":
                    if (!TryParseCount(value, out uploaded))
                    {
                        return Fail("uploaded must be a non-negative integer", out error);
                    }

                    break;
                case "downloaded":
                    if (!TryParseCount(value, out downloaded))
                    {
                        return Fail("downloaded must be a non-negative integer", out error);
                    }

                    break;
                case "left":
                    if (!TryParseCount(value, out left))
                    {
                        return Fail("left must be a non-negative integer", out error);
                    }

                    break;
                case "event":
                    if (!TrackerEventNames.TryParseQueryValue(value, out announceEvent))
                    {
                        return Fail("event must be started, completed, stopped, paused or empty", out error);
                    }

                    break;
                case "numwant":
                case "num_want":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out numWant))
                    {
                        // A huge number is a request for "as many as you give", not an error.
                        if (value.Length > 0 && !value.ContainsAnyExceptInRange('0', '9'))
                        {
                            numWant = int.MaxValue;
                            break;
                        }

                        return Fail("numwant must be a non-negative integer", out error);
                    }

                    break;
                case "compact":
                    compact = !value.SequenceEqual("0");
                    break;
                case "no_peer_id":
                    noPeerId = !value.SequenceEqual("0");
                    break;
                case "key":
                    if (!PercentDecoding.TryDecode(value, scratch, out var keyLength))
                    {
                        return Fail($"key must be at most {MaxKeyLength} bytes, percent-encoded", out error);
                    }

                    key = HashKey(scratch[..keyLength]);
                    break;
                case "ip":
                    claimed = TryParseAddress(value, scratch);
                    break;
                default:
                    // Other parameters (trackerid, supportcrypto, corrupt, redundant, ...) do not affect a tracker.
                    break;
            }
        }

        if (infoHash is null)
        {
            return Fail("missing info_hash", out error);
        }

        if (peerId is null)
        {
            return Fail("missing peer_id", out error);
        }

        if (port is null)
        {
            return Fail("missing port", out error);
        }

        request = new AnnounceRequest(
            infoHash.Value, peerId.Value, (ushort)port.Value, uploaded, downloaded, left,
            announceEvent, numWant, key, claimed, compact, noPeerId);
        error = null;
        return true;
    }

    /// <summary>FNV-1a over the key's bytes: the tracker only compares keys, never shows them.</summary>
    public static uint HashKey(ReadOnlySpan<byte> key)
    {
        var hash = 2166136261u;
        foreach (var b in key)
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }

    internal static bool TryDecode20(ReadOnlySpan<char> value, Span<byte> scratch, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (!PercentDecoding.TryDecode(value, scratch, out var written) || written != InfoHash.Length)
        {
            return false;
        }

        bytes = scratch[..written];
        return true;
    }

    private static bool TryParseCount(ReadOnlySpan<char> value, out long count) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count);

    private static PeerAddress? TryParseAddress(ReadOnlySpan<char> value, Span<byte> scratch)
    {
        if (!PercentDecoding.TryDecode(value, scratch, out var written) || written > 45)
        {
            return null;
        }

        Span<char> text = stackalloc char[written];
        for (var i = 0; i < written; i++)
        {
            text[i] = (char)scratch[i];
        }

        return IPAddress.TryParse(text, out var address) ? PeerAddress.From(address) : null;
    }

    private static bool Fail(string message, out string? error)
    {
        error = message;
        return false;
    }
}
