using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Testbed.Torrent.Metainfo;

/// <summary>A v1 info hash: the 20-byte SHA-1 of the bencoded info dictionary, as received.</summary>
public readonly record struct InfoHash : IComparable<InfoHash>
{
    /// <summary>Length in bytes.</summary>
    public const int Length = 20;

    private const string Base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    // Three integers instead of an array, so the value type is copy-safe, allocation-free and compares by value.
    private readonly ulong high;
    private readonly ulong middle;
    private readonly uint low;

    /// <summary>Wraps exactly 20 bytes.</summary>
    public InfoHash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"an info hash is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        high = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        middle = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        low = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>SHA-1 of the given bencoded info dictionary bytes.</summary>
    public static InfoHash Compute(ReadOnlySpan<byte> bencodedInfo)
    {
        Span<byte> digest = stackalloc byte[Length];
        SHA1.HashData(bencodedInfo, digest);
        return new InfoHash(digest);
    }

    /// <summary>Writes the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException($"destination needs {Length} bytes", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, high);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], middle);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], low);
    }

    /// <summary>The 20 bytes as a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>40 lowercase hex digits.</summary>
    public string ToHex() => Convert.ToHexStringLower(ToArray());

    /// <summary>Percent-encoded bytes for a tracker query string.</summary>
    public string ToUrlEncoded() => PercentEncoding.Encode(ToArray());

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
    public static InfoHash ParseHex(string hex) =>
        TryParseHex(hex, out var hash) ? hash : throw new FormatException($"'{hex}' is not an info hash of 40 hex digits");

    /// <summary>Tries to parse 40 hex digits (either case).</summary>
    public static bool TryParseHex(string? hex, out InfoHash hash)
    {
        hash = default;
        if (hex is null || hex.Length != Length * 2)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Length];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Length)
        {
            return false;
        }

        hash = new InfoHash(bytes);
        return true;
    }

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

    /// <inheritdoc />
    public int CompareTo(InfoHash other)
    {
        var order = high.CompareTo(other.high);
        if (order == 0)
        {
            order = middle.CompareTo(other.middle);
        }

        return order != 0 ? order : low.CompareTo(other.low);
    }

    /// <summary>40 lowercase hex digits.</summary>
    public override string ToString() => ToHex();
}
