using System.Buffers.Binary;
using System.Net;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Messages;

namespace Testbed.Torrent.Extensions;

/// <summary>A BEP 11 ut_pex message: peers added and dropped since the last message, in compact form.</summary>
public sealed record PeerExchangeMessage(IReadOnlyList<IPEndPoint> Added, IReadOnlyList<IPEndPoint> Dropped)
{
    /// <summary>Most peers per list per message (BEP 11 asks for at most 50 added and 50 dropped).</summary>
    public const int MaxPeers = 50;

    /// <summary>Encodes the payload: `added`/`added.f`/`dropped` for IPv4, `added6`/`added6.f`/`dropped6` for IPv6.</summary>
    public byte[] Encode()
    {
        var dict = new BencodeDictionary();
        var added4 = Added.Where(e => e.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).Take(MaxPeers).ToList();
        var added6 = Added.Where(e => e.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6).Take(MaxPeers).ToList();
        dict.Add("added", Compact(added4, 4));
        dict.Add("added.f", new byte[added4.Count]);
        dict.Add("dropped", Compact(Dropped.Where(e => e.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).Take(MaxPeers), 4));
        if (added6.Count > 0)
        {
            dict.Add("added6", Compact(added6, 16));
            dict.Add("added6.f", new byte[added6.Count]);
        }

        var dropped6 = Dropped.Where(e => e.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6).Take(MaxPeers).ToList();
        if (dropped6.Count > 0)
        {
            dict.Add("dropped6", Compact(dropped6, 16));
        }

        return dict.Encode();
    }

    private static byte[] Compact(IEnumerable<IPEndPoint> endPoints, int addressLength)
    {
        var list = endPoints.ToList();
        var bytes = new byte[list.Count * (addressLength + 2)];
        for (var i = 0; i < list.Count; i++)
        {
            var slot = bytes.AsSpan(i * (addressLength + 2));
            list[i].Address.TryWriteBytes(slot, out _);
            BinaryPrimitives.WriteUInt16BigEndian(slot[addressLength..], (ushort)list[i].Port);
        }

        return bytes;
    }

    /// <summary>Parses a payload, keeping at most <see cref="MaxPeers"/> per list (extra peers are ignored, not trusted).</summary>
    public static PeerExchangeMessage Parse(ReadOnlyMemory<byte> payload)
    {
        var dict = ExtensionPayload.Decode(payload, "ut_pex message is malformed");

        var added = new List<IPEndPoint>();
        var dropped = new List<IPEndPoint>();
        Read(dict, "added", 4, added);
        Read(dict, "added6", 16, added);
        Read(dict, "dropped", 4, dropped);
        Read(dict, "dropped6", 16, dropped);
        return new PeerExchangeMessage(added, dropped);
    }

    private static void Read(BencodeDictionary dict, string key, int addressLength, List<IPEndPoint> into)
    {
        if (!dict.TryGetValue(key, out var value) || value is not BencodeString s)
        {
            return;
        }

        var entry = addressLength + 2;
        if (s.Length % entry != 0)
        {
            throw new PeerProtocolException($"ut_pex '{key}' is {s.Length} bytes, not a multiple of {entry}");
        }

        var span = s.Bytes.Span;
        for (var i = 0; i + entry <= span.Length && into.Count < MaxPeers * 2; i += entry)
        {
            var port = BinaryPrimitives.ReadUInt16BigEndian(span.Slice(i + addressLength, 2));
            if (port != 0)
            {
                into.Add(new IPEndPoint(new IPAddress(span.Slice(i, addressLength)), port));
            }
        }
    }
}
