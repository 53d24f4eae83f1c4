using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Trackers;

/// <summary>BEP 15 datagram layouts: connect, announce, scrape and error, all big-endian.</summary>
public static class UdpTrackerProtocol
{
    /// <summary>The magic protocol id a connect request carries.</summary>
    public const long ProtocolId = 0x41727101980;

    /// <summary>Most info hashes one scrape datagram may carry.</summary>
    public const int MaxScrapeHashes = 74;

    /// <summary>Length of a connect request.</summary>
    public const int ConnectRequestLength = 16;

    /// <summary>Length of an announce request (without BEP 41 options).</summary>
    public const int AnnounceRequestLength = 98;

    /// <summary>Actions.</summary>
    public enum Action
    {
        /// <summary>Obtain a connection id.</summary>
        Connect = 0,

        /// <summary>Announce.</summary>
        Announce = 1,

        /// <summary>Scrape.</summary>
        Scrape = 2,

        /// <summary>Error response.</summary>
        Error = 3,
    }

    /// <summary>Writes a connect request.</summary>
    public static byte[] ConnectRequest(uint transactionId)
    {
        var packet = new byte[ConnectRequestLength];
        BinaryPrimitives.WriteInt64BigEndian(packet, ProtocolId);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), (int)Action.Connect);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(12), transactionId);
        return packet;
    }

    /// <summary>Writes an announce request.</summary>
    public static byte[] AnnounceRequest(long connectionId, uint transactionId, AnnounceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var packet = new byte[AnnounceRequestLength];
        var span = packet.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(span, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], (int)Action.Announce);
        BinaryPrimitives.WriteUInt32BigEndian(span[12..], transactionId);
        request.InfoHash.CopyTo(span[16..]);
        request.PeerId.Span.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt64BigEndian(span[56..], request.Downloaded);
        BinaryPrimitives.WriteInt64BigEndian(span[64..], request.Left);
        BinaryPrimitives.WriteInt64BigEndian(span[72..], request.Uploaded);
        BinaryPrimitives.WriteInt32BigEndian(span[80..], request.Event.ToUdpCode());
        if (request.Address is { AddressFamily: AddressFamily.InterNetwork } address)
        {
            address.TryWriteBytes(span[84..88], out _);
        }

        BinaryPrimitives.WriteUInt32BigEndian(span[88..], request.Key);
        BinaryPrimitives.WriteInt32BigEndian(span[92..], request.NumWant ?? -1);
        BinaryPrimitives.WriteUInt16BigEndian(span[96..], (ushort)request.Port);
        return packet;
    }

    /// <summary>Writes a scrape request for up to <see cref="MaxScrapeHashes"/> torrents.</summary>
    public static byte[] ScrapeRequest(long connectionId, uint transactionId, IReadOnlyList<InfoHash> infoHashes)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(infoHashes.Count, MaxScrapeHashes);
        var packet = new byte[16 + (InfoHash.Length * infoHashes.Count)];
        BinaryPrimitives.WriteInt64BigEndian(packet, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), (int)Action.Scrape);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(12), transactionId);
        for (var i = 0; i < infoHashes.Count; i++)
        {
            infoHashes[i].CopyTo(packet.AsSpan(16 + (i * InfoHash.Length)));
        }

        return packet;
    }

    /// <summary>Reads the action and transaction id every response starts with; false if the datagram is too short.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> datagram, out Action action, out uint transactionId)
    {
        action = default;
        transactionId = 0;
        if (datagram.Length < 8)
        {
            return false;
        }

        action = (Action)BinaryPrimitives.ReadInt32BigEndian(datagram);
        transactionId = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]);
        return true;
    }

    /// <summary>The message of an error response (at most 1,024 characters kept).</summary>
    public static string ReadError(ReadOnlySpan<byte> datagram)
    {
        var message = datagram.Length > 8 ? Encoding.UTF8.GetString(datagram[8..Math.Min(datagram.Length, 8 + 1024)]) : "(no message)";
        return message.TrimEnd('\0');
    }

    /// <summary>Reads the connection id of a connect response.</summary>
    public static long ReadConnectResponse(ReadOnlySpan<byte> datagram) =>
        datagram.Length >= 16 ? BinaryPrimitives.ReadInt64BigEndian(datagram[8..]) : throw new FormatException($"connect response of {datagram.Length} bytes is shorter than 16");

    /// <summary>Reads an announce response; peers are 6-byte (IPv4 tracker) or 18-byte (IPv6 tracker) entries.</summary>
    public static AnnounceResponse ReadAnnounceResponse(ReadOnlySpan<byte> datagram, AddressFamily family, int maxPeers)
    {
        if (datagram.Length < 20)
        {
            throw new FormatException($"announce response of {datagram.Length} bytes is shorter than 20");
        }

        var interval = BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]);
        var leechers = BinaryPrimitives.ReadUInt32BigEndian(datagram[12..]);
        var seeders = BinaryPrimitives.ReadUInt32BigEndian(datagram[16..]);
        var peers = CompactPeers.Parse(datagram[20..], family, maxPeers).Select(p => new TrackerPeer(p)).ToList();
        return new AnnounceResponse(
            TimeSpan.FromSeconds(Math.Min(interval, int.MaxValue)),
            null,
            peers,
            (int)Math.Min(seeders, int.MaxValue),
            (int)Math.Min(leechers, int.MaxValue));
    }

    /// <summary>Reads a scrape response for the torrents asked, in the same order.</summary>
    public static IReadOnlyList<ScrapeStats> ReadScrapeResponse(ReadOnlySpan<byte> datagram, int expected)
    {
        if (datagram.Length != 8 + (12 * expected))
        {
            throw new FormatException($"scrape response of {datagram.Length} bytes does not hold {expected} entries of 12 bytes");
        }

        var result = new List<ScrapeStats>(expected);
        for (var i = 0; i < expected; i++)
        {
            var entry = datagram.Slice(8 + (12 * i), 12);
            result.Add(new ScrapeStats(
                BinaryPrimitives.ReadUInt32BigEndian(entry),
                BinaryPrimitives.ReadUInt32BigEndian(entry[4..]),
                BinaryPrimitives.ReadUInt32BigEndian(entry[8..])));
        }

        return result;
    }
}
