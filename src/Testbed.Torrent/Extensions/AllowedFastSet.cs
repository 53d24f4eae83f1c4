using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Extensions;

/// <summary>The BEP 6 allowed-fast set: pieces a peer at a given IPv4 address may fetch while choked, derived from its /24 and the info hash.</summary>
public static class AllowedFastSet
{
    /// <summary>Computes up to <paramref name="count"/> piece indices for <paramref name="address"/> (IPv4 only; empty for IPv6).</summary>
    public static IReadOnlyList<int> Compute(IPAddress address, InfoHash infoHash, int pieceCount, int count)
    {
        var result = new List<int>();
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || pieceCount == 0)
        {
            return result;
        }

        count = Math.Min(count, pieceCount);
        var x = new byte[24];
        address.TryWriteBytes(x, out _);
        x[3] = 0;
        infoHash.CopyTo(x.AsSpan(4));
        var hash = (byte[])x.Clone();
        while (result.Count < count)
        {
            hash = SHA1.HashData(hash);
            for (var i = 0; i < 5 && result.Count < count; i++)
            {
                var y = BinaryPrimitives.ReadUInt32BigEndian(hash.AsSpan(i * 4, 4));
                var index = (int)(y % (uint)pieceCount);
                if (!result.Contains(index))
                {
                    result.Add(index);
                }
            }
        }

        return result;
    }
}
