using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Testbed.Torrent.Trackers;

/// <summary>The compact peer formats: 6 bytes per IPv4 peer (BEP 23) and 18 bytes per IPv6 peer (BEP 7), address then big-endian port.</summary>
public static class CompactPeers
{
    /// <summary>Bytes per IPv4 entry.</summary>
    public const int IPv4EntryLength = 6;

    /// <summary>Bytes per IPv6 entry.</summary>
    public const int IPv6EntryLength = 18;

    /// <summary>Reads entries of one family; a length that is not a whole number of entries throws <see cref="FormatException"/>. At most <paramref name="maxPeers"/> are returned.</summary>
    public static List<IPEndPoint> Parse(ReadOnlySpan<byte> data, AddressFamily family, int maxPeers)
    {
        var entry = family == AddressFamily.InterNetworkV6 ? IPv6EntryLength : IPv4EntryLength;
        if (data.Length % entry != 0)
        {
            throw new FormatException($"compact peer list of {data.Length} bytes is not a multiple of {entry}");
        }

        var count = Math.Min(data.Length / entry, maxPeers);
        var peers = new List<IPEndPoint>(count);
        for (var i = 0; i < count; i++)
        {
            var item = data.Slice(i * entry, entry);
            var port = BinaryPrimitives.ReadUInt16BigEndian(item[(entry - 2)..]);
            if (port == 0)
            {
                continue; // Port 0 cannot be connected to.
            }

            peers.Add(new IPEndPoint(new IPAddress(item[..(entry - 2)]), port));
        }

        return peers;
    }

    /// <summary>Writes one peer in compact form; returns bytes written (6 or 18).</summary>
    public static int Write(IPEndPoint peer, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var address = peer.Address.IsIPv4MappedToIPv6 ? peer.Address.MapToIPv4() : peer.Address;
        if (!address.TryWriteBytes(destination, out var written))
        {
            throw new ArgumentException("destination too small", nameof(destination));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination[written..], (ushort)peer.Port);
        return written + 2;
    }
}
