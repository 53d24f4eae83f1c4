using System.Numerics;
using System.Text;
using Testbed.Torrent.Bencoding;

namespace Testbed.Peer.Network;

/// <summary>
/// The values inside the BEP 10 extension messages peers exchange on the network swarm's connections (the extensions
/// themselves: <see cref="Messages.SwarmMessage"/>). Each payload is a bencoded dictionary; these read its values within
/// bounds and write the ones bencode has no type for (chain work, compact endpoints).
/// </summary>
public static class SwarmMessages
{
    /// <summary>Largest extension message accepted on the swarm (a transaction is at most 16 KiB; an info dict a few KiB).</summary>
    public const int MaxMessageBytes = 256 * 1024;

    /// <summary>Reads a bounded text value.</summary>
    public static string? Text(BencodeDictionary dict, string key, int maxLength = 1024) =>
        dict.TryGetValue(key, out var v) && v is BencodeString s && s.Length <= maxLength ? s.Text : null;

    /// <summary>Reads a byte string value.</summary>
    public static byte[]? Bytes(BencodeDictionary dict, string key, int maxLength) =>
        dict.TryGetValue(key, out var v) && v is BencodeString s && s.Length <= maxLength ? s.Bytes.ToArray() : null;

    /// <summary>Reads an integer value.</summary>
    public static long? Integer(BencodeDictionary dict, string key) =>
        dict.TryGetValue(key, out var v) && v is BencodeInteger i ? i.Value : null;

    /// <summary>Longest chain work in hex accepted (far beyond any chain: 80 hex digits are 320 bits).</summary>
    public const int MaxWorkHexLength = 80;

    /// <summary>Chain work as lowercase hex (bencode integers are 64-bit; work may grow beyond).</summary>
    public static string WorkToHex(BigInteger work) => work.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses chain work from hex; null when absent or malformed.</summary>
    public static BigInteger? WorkFromHex(string? hex) =>
        hex is { Length: > 0 and <= MaxWorkHexLength } && BigInteger.TryParse("0" + hex, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var w) ? w : null;

    /// <summary>An IPv4 endpoint as 6 bytes (address, then port, big-endian), as BEP 5 and BEP 23 write them.</summary>
    public static byte[] Compact(System.Net.IPEndPoint endPoint)
    {
        var bytes = new byte[6];
        endPoint.Address.MapToIPv4().TryWriteBytes(bytes, out _);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)endPoint.Port);
        return bytes;
    }

    /// <summary>Reads <see cref="Compact"/>'s form; null for a port of 0.</summary>
    public static System.Net.IPEndPoint? CompactEndPoint(ReadOnlySpan<byte> bytes)
    {
        var port = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(bytes[4..6]);
        return port == 0 ? null : new System.Net.IPEndPoint(new System.Net.IPAddress(bytes[..4]), port);
    }

    /// <summary>UTF-8 bytes of a string (bencode strings are bytes).</summary>
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
