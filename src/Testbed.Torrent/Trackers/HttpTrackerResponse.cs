using System.Net;
using System.Net.Sockets;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Trackers;

/// <summary>Reads bencoded HTTP tracker responses (announce per BEP 3/23/7, scrape per BEP 48).</summary>
public static class HttpTrackerResponse
{
    /// <summary>Parses an announce response; `failure reason` becomes a <see cref="TrackerFailureException"/>, anything malformed a non-retryable <see cref="TrackerException"/>.</summary>
    public static AnnounceResponse ParseAnnounce(Uri tracker, ReadOnlyMemory<byte> body, int maxPeers)
    {
        var dictionary = Decode(tracker, body);
        try
        {
            var interval = dictionary.GetInteger("interval") ?? throw Malformed(tracker, "announce response has no 'interval'");
            var minInterval = dictionary.GetInteger("min interval");
            if (interval < 0 || minInterval < 0)
            {
                throw Malformed(tracker, "announce response has a negative interval");
            }

            var peers = new List<TrackerPeer>();
            switch (dictionary.TryGetValue("peers", out var peersValue) ? peersValue : null)
            {
                case BencodeString compact:
                    peers.AddRange(CompactPeers.Parse(compact.Bytes.Span, AddressFamily.InterNetwork, maxPeers).Select(p => new TrackerPeer(p)));
                    break;
                case BencodeList list:
                    ReadPeerDictionaries(tracker, list, peers, maxPeers);
                    break;
                case null:
                    break;
                default:
                    throw Malformed(tracker, "'peers' is neither a string nor a list");
            }

            if (dictionary.Get<BencodeString>("peers6") is { } peers6)
            {
                peers.AddRange(CompactPeers.Parse(peers6.Bytes.Span, AddressFamily.InterNetworkV6, Math.Max(0, maxPeers - peers.Count)).Select(p => new TrackerPeer(p)));
            }

            return new AnnounceResponse(
                TimeSpan.FromSeconds(Math.Min(interval, int.MaxValue)),
                minInterval is { } min ? TimeSpan.FromSeconds(Math.Min(min, int.MaxValue)) : null,
                peers,
                Count(dictionary.GetInteger("complete")),
                Count(dictionary.GetInteger("incomplete")),
                dictionary.GetText("tracker id"),
                dictionary.GetText("warning message"));
        }
        catch (FormatException error)
        {
            throw Malformed(tracker, error.Message, error);
        }
    }

    /// <summary>Parses a scrape response's `files` dictionary, keyed by raw 20-byte info hashes.</summary>
    public static IReadOnlyDictionary<InfoHash, ScrapeStats> ParseScrape(Uri tracker, ReadOnlyMemory<byte> body)
    {
        var dictionary = Decode(tracker, body);
        try
        {
            var files = dictionary.Get<BencodeDictionary>("files") ?? throw Malformed(tracker, "scrape response has no 'files'");
            var result = new Dictionary<InfoHash, ScrapeStats>();
            foreach (var (key, value) in files)
            {
                if (key.Length != InfoHash.Length)
                {
                    throw Malformed(tracker, $"scrape response key of {key.Length} bytes is not an info hash");
                }

                if (value is not BencodeDictionary stats)
                {
                    throw Malformed(tracker, "scrape response entry is not a dictionary");
                }

                result[new InfoHash(key.Bytes.Span)] = new ScrapeStats(
                    Math.Max(0, stats.GetInteger("complete") ?? 0),
                    Math.Max(0, stats.GetInteger("downloaded") ?? 0),
                    Math.Max(0, stats.GetInteger("incomplete") ?? 0));
            }

            return result;
        }
        catch (BencodeException error)
        {
            throw Malformed(tracker, error.Message, error);
        }
    }

    /// <summary>Throws a <see cref="TrackerFailureException"/> if the body is a bencoded dictionary with a `failure reason`; does nothing otherwise.</summary>
    public static void ThrowIfFailure(Uri tracker, ReadOnlyMemory<byte> body)
    {
        try
        {
            Decode(tracker, body);
        }
        catch (TrackerFailureException)
        {
            throw;
        }
        catch (TrackerException)
        {
            // Not bencode: nothing to surface.
        }
    }

    private static BencodeDictionary Decode(Uri tracker, ReadOnlyMemory<byte> body)
    {
        BencodeDictionary dictionary;
        try
        {
            dictionary = BencodeDecoder.DecodeDictionary(body, BencodeLimits.Message);
        }
        catch (BencodeException error)
        {
            throw Malformed(tracker, $"response is not a bencoded dictionary ({error.Message})", error);
        }

        if (dictionary.TryGetValue("failure reason", out var reason))
        {
            throw new TrackerFailureException(tracker, reason is BencodeString text ? text.Text : reason.ToString() ?? "(unreadable)");
        }

        return dictionary;
    }

    private static void ReadPeerDictionaries(Uri tracker, BencodeList list, List<TrackerPeer> peers, int maxPeers)
    {
        foreach (var item in list)
        {
            if (peers.Count >= maxPeers)
            {
                break;
            }

            if (item is not BencodeDictionary peer)
            {
                throw Malformed(tracker, "'peers' list holds something that is not a dictionary");
            }

            var ip = peer.GetText("ip") ?? throw Malformed(tracker, "peer entry has no 'ip'");
            var port = peer.GetInteger("port") ?? throw Malformed(tracker, "peer entry has no 'port'");
            if (port is < 1 or > IPEndPoint.MaxPort)
            {
                throw Malformed(tracker, $"peer entry port {port} is out of range");
            }

            // A DNS name is allowed by BEP 3 but resolving names a tracker hands out is a needless risk; such entries are skipped.
            if (!IPAddress.TryParse(ip, out var address))
            {
                continue;
            }

            var peerId = peer.Get<BencodeString>("peer id");
            peers.Add(new TrackerPeer(new IPEndPoint(address, (int)port), peerId is { Length: 20 } ? peerId.Bytes.ToArray() : null));
        }
    }

    private static int? Count(long? value) => value is { } v ? (int)Math.Clamp(v, 0, int.MaxValue) : null;

    private static TrackerException Malformed(Uri tracker, string problem, Exception? inner = null) =>
        new(tracker, $"malformed response: {problem}", isRetryable: false, inner);
}
