using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Testbed.Torrent.Dht.Krpc;

/// <summary>Compact node info (BEP 5): 20-byte id, 4-byte IPv4 address, 2-byte big-endian port, concatenated.</summary>
public static class CompactNodes
{
    /// <summary>Reads a node list; a length that is not a multiple of 26 throws <see cref="FormatException"/>. Entries with port 0 are skipped.</summary>
    public static List<NodeInfo> Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length % KrpcLimits.CompactNodeLength != 0)
        {
            throw new FormatException($"compact node info of {data.Length} bytes is not a multiple of {KrpcLimits.CompactNodeLength}");
        }

        var nodes = new List<NodeInfo>(data.Length / KrpcLimits.CompactNodeLength);
        for (var offset = 0; offset < data.Length; offset += KrpcLimits.CompactNodeLength)
        {
            var entry = data.Slice(offset, KrpcLimits.CompactNodeLength);
            var port = BinaryPrimitives.ReadUInt16BigEndian(entry[24..]);
            if (port != 0)
            {
                nodes.Add(new NodeInfo(new NodeId(entry[..20]), new IPEndPoint(new IPAddress(entry[20..24]), port)));
            }
        }

        return nodes;
    }

    /// <summary>Writes nodes in compact form; only IPv4 endpoints can be written.</summary>
    public static byte[] Write(IEnumerable<NodeInfo> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var list = nodes.ToList();
        var bytes = new byte[list.Count * KrpcLimits.CompactNodeLength];
        for (var i = 0; i < list.Count; i++)
        {
            var entry = bytes.AsSpan(i * KrpcLimits.CompactNodeLength, KrpcLimits.CompactNodeLength);
            list[i].Id.CopyTo(entry);
            WriteEndPoint(list[i].EndPoint, entry[20..]);
        }

        return bytes;
    }

    /// <summary>Writes an IPv4 endpoint as 6 bytes (address, big-endian port).</summary>
    public static void WriteEndPoint(IPEndPoint endPoint, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"{endPoint} is not an IPv4 endpoint; this DHT node speaks IPv4 only", nameof(endPoint));
        }

        address.TryWriteBytes(destination, out _);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)endPoint.Port);
    }
}
