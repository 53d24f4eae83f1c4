using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Dht.Krpc;

/// <summary>Bounds on everything a KRPC datagram may carry; anything beyond them is refused before it is looked at further.</summary>
public static class KrpcLimits
{
    /// <summary>Largest datagram accepted or sent: one Ethernet MTU, which every real KRPC message fits.</summary>
    public const int MaxDatagram = 1500;

    /// <summary>Longest transaction id (libtorrent uses 2 bytes, others 4; echoed back, so it must stay small).</summary>
    public const int MaxTransactionId = 16;

    /// <summary>Longest write token (libtorrent's are 4 bytes, ours 8).</summary>
    public const int MaxToken = 20;

    /// <summary>Longest method name (the longest defined one, `sample_infohashes`, has 17 characters).</summary>
    public const int MaxMethod = 32;

    /// <summary>Bytes of one compact node info: 20-byte id, IPv4 address, port.</summary>
    public const int CompactNodeLength = 26;

    /// <summary>Bytes of one compact IPv4 peer.</summary>
    public const int CompactPeerLength = 6;

    /// <summary>
    /// Bencode bounds of a datagram: depth 4 (message, arguments, a list in them such as `want` or `values`, one spare),
    /// strings no longer than a datagram, at most 256 values in all.
    /// </summary>
    public static BencodeLimits Bencode { get; } = new(MaxDepth: 4, MaxStringLength: MaxDatagram, MaxElements: 256, MaxTotalSize: MaxDatagram);
}
