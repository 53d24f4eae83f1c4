using System.Security.Cryptography;
using Testbed.Bytes;

namespace Testbed.Torrent.Metainfo;

/// <summary>A v1 info hash: the 20-byte SHA-1 of the bencoded info dictionary, as received.</summary>
public readonly record struct InfoHash : IComparable<InfoHash>, IFixedBytes<InfoHash, Bytes20>
{
    /// <summary>Length in bytes.</summary>
    public const int Length = 20;

    private const string Base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    private readonly FixedBytes<Bytes20> _value;

    /// <summary>Wraps exactly 20 bytes.</summary>
    public InfoHash(ReadOnlySpan<byte> bytes) => _value = new(bytes, "an info hash");

    private InfoHash(FixedBytes<Bytes20> value) => _value = value;

    /// <summary>SHA-1 of the given bencoded info dictionary bytes.</summary>
    public static InfoHash Compute(ReadOnlySpan<byte> bencodedInfo) => FixedBytes<Bytes20>.Digest<InfoHash>(bencodedInfo, SHA1.HashData);

    /// <summary>Writes the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination) => _value.CopyTo(destination);

    /// <summary>The 20 bytes as a new array.</summary>
    public byte[] ToArray() => _value.ToArray();

    /// <summary>40 lowercase hex digits.</summary>
    public string ToHex() => _value.ToHex();

    /// <summary>Percent-encoded bytes for a tracker query string.</summary>
    public string ToUrlEncoded() => PercentEncoding.Encode(_value.Span);

    /// <summary>32 base32 characters (RFC 4648, uppercase, no padding), the older magnet-link form.</summary>
    public string ToBase32()
    {
        var bytes = ToArray();
        var chars = new char[32];
        for (var i = 0; i < 32; i++)
        {
            var bit = i * 5;
            var value = (bytes[bit / 8] << 8) | (bit / 8 + 1 < Length ? bytes[(bit / 8) + 1] : 0);
            chars[i] = Base32Alphabet[(value >> (11 - (bit % 8))) & 0x1f];
        }

        return new string(chars);
    }

    /// <summary>Parses 40 hex digits (either case).</summary>
    public static InfoHash ParseHex(string hex) => FixedBytes<Bytes20>.ParseHex<InfoHash>(hex, HexCase.Either, "an info hash");

    /// <summary>Tries to parse 40 hex digits (either case).</summary>
    public static bool TryParseHex(string? hex, out InfoHash hash) => FixedBytes<Bytes20>.TryParseHex(hex, HexCase.Either, out hash);

    /// <summary>Parses 32 base32 characters (either case).</summary>
    public static InfoHash ParseBase32(string text) =>
        TryParseBase32(text, out var hash) ? hash : throw new FormatException($"'{text}' is not an info hash of 32 base32 characters");

    /// <summary>Tries to parse 32 base32 characters (either case).</summary>
    public static bool TryParseBase32(string? text, out InfoHash hash)
    {
        hash = default;
        if (text is null || text.Length != 32)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Length];
        var buffer = 0;
        var bits = 0;
        var written = 0;
        foreach (var c in text)
        {
            var value = Base32Alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            if (value < 0)
            {
                return false;
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes[written++] = (byte)(buffer >> bits);
                buffer &= (1 << bits) - 1;
            }
        }

        hash = new InfoHash(bytes);
        return true;
    }

    /// <summary>Orders as one big-endian unsigned number.</summary>
    public int CompareTo(InfoHash other) => _value.CompareTo(other._value);

    /// <summary>40 lowercase hex digits.</summary>
    public override string ToString() => _value.ToHex();

    static InfoHash IFixedBytes<InfoHash, Bytes20>.Wrap(FixedBytes<Bytes20> value) => new(value);
}
