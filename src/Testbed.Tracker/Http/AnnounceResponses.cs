using System.Buffers;
using System.Buffers.Binary;
using Testbed.Torrent.Bencoding;
using Testbed.Tracker.Announces;
using Testbed.Tracker.Swarms;
using Testbed.Torrent.Metainfo;

namespace Testbed.Tracker.Http;

/// <summary>Bencoded HTTP tracker responses: announce (BEP 3 dictionary model or BEP 23 compact, BEP 7 `peers6`), scrape (BEP 48), failure.</summary>
public static class AnnounceResponses
{
    private static readonly BencodeString Complete = new("complete");
    private static readonly BencodeString Incomplete = new("incomplete");
    private static readonly BencodeString Downloaded = new("downloaded");
    private static readonly BencodeString Interval = new("interval");
    private static readonly BencodeString MinInterval = new("min interval");
    private static readonly BencodeString Peers = new("peers");
    private static readonly BencodeString Peers6 = new("peers6");
    private static readonly BencodeString Ip = new("ip");
    private static readonly BencodeString PeerIdKey = new("peer id");
    private static readonly BencodeString Port = new("port");
    private static readonly BencodeString Files = new("files");
    private static readonly BencodeString FailureReason = new("failure reason");

    /// <summary>Writes an announce response listing <paramref name="peers"/>.</summary>
    public static void WriteAnnounce(IBufferWriter<byte> output, in AnnounceRequest request, SwarmCounts counts, AnnouncePolicy policy, ReadOnlySpan<PeerEndpoint> peers)
    {
        var response = new BencodeDictionary
        {
            { Complete, new BencodeInteger(counts.Seeders) },
            { Incomplete, new BencodeInteger(counts.Leechers) },
            { Interval, new BencodeInteger(policy.Interval) },
            { MinInterval, new BencodeInteger(policy.MinInterval) },
        };

        if (request.Compact)
        {
            var v4 = 0;
            foreach (var peer in peers)
            {
                v4 += peer.Address.IsV4 ? 1 : 0;
            }

            var v4Bytes = new byte[v4 * 6];
            var v6Bytes = new byte[(peers.Length - v4) * 18];
            int at4 = 0, at6 = 0;
            foreach (var peer in peers)
            {
                if (peer.Address.IsV4)
                {
                    at4 += WriteCompactPeer(v4Bytes.AsSpan(at4), peer);
                }
                else
                {
                    at6 += WriteCompactPeer(v6Bytes.AsSpan(at6), peer);
                }
            }

            response.Add(Peers, new BencodeString(v4Bytes));
            if (v6Bytes.Length > 0)
            {
                response.Add(Peers6, new BencodeString(v6Bytes));
            }
        }
        else
        {
            var list = new BencodeList();
            foreach (var peer in peers)
            {
                var entry = new BencodeDictionary
                {
                    { Ip, new BencodeString(peer.Address.ToString()) },
                    { Port, new BencodeInteger(peer.Port) },
                };
                if (!request.NoPeerId)
                {
                    entry.Add(PeerIdKey, new BencodeString(peer.Id.ToArray()));
                }

                list.Add(entry);
            }

            response.Add(Peers, list);
        }

        BencodeEncoder.Encode(response, output);
    }

    /// <summary>Writes a scrape response with one entry per info hash.</summary>
    public static void WriteScrape(IBufferWriter<byte> output, IReadOnlyList<(InfoHash InfoHash, SwarmCounts Counts)> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var entries = new BencodeDictionary();
        foreach (var (infoHash, counts) in files)
        {
            entries.Add(new BencodeString(infoHash.ToArray()), new BencodeDictionary
            {
                { Complete, new BencodeInteger(counts.Seeders) },
                { Downloaded, new BencodeInteger(counts.Downloaded) },
                { Incomplete, new BencodeInteger(counts.Leechers) },
            });
        }

        BencodeEncoder.Encode(new BencodeDictionary { { Files, entries } }, output);
    }

    /// <summary>Writes `d14:failure reason...e`.</summary>
    public static void WriteFailure(IBufferWriter<byte> output, string reason) =>
        BencodeEncoder.Encode(new BencodeDictionary { { FailureReason, new BencodeString(reason) } }, output);

    private static int WriteCompactPeer(Span<byte> destination, in PeerEndpoint peer)
    {
        var length = peer.Address.WriteCompact(destination);
        BinaryPrimitives.WriteUInt16BigEndian(destination[length..], peer.Port);
        return length + 2;
    }
}
