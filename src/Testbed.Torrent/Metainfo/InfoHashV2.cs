using System.Security.Cryptography;

namespace Testbed.Torrent.Metainfo;

/// <summary>A BEP 52 (v2) info hash: the 32-byte SHA-256 of the bencoded info dictionary, as received.</summary>
public readonly record struct InfoHashV2
{
    /// <summary>Length in bytes.</summary>
    public const int Length = Sha256Value.Length;

    private readonly Sha256Value value;

    /// <summary>Wraps exactly 32 bytes.</summary>
    public InfoHashV2(ReadOnlySpan<byte> bytes) => value = new Sha256Value(bytes, "a v2 info hash");

    /// <summary>SHA-256 of the given bencoded info dictionary bytes.</summary>
    public static InfoHashV2 Compute(ReadOnlySpan<byte> bencodedInfo)
    {
        Span<byte> digest = stackalloc byte[Length];
        SHA256.HashData(bencodedInfo, digest);
        return new InfoHashV2(digest);
    }

    /// <summary>
    /// The first 20 bytes: what BEP 52 puts in handshakes, tracker announces and other places sized for a v1 hash.
    /// </summary>
    public InfoHash Truncated
    {
        get
        {
            Span<byte> bytes = stackalloc byte[Length];
            value.CopyTo(bytes);
            return new InfoHash(bytes[..InfoHash.Length]);
        }
    }

    /// <summary>Writes the 32 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination) => value.CopyTo(destination);

    /// <summary>The 32 bytes as a new array.</summary>
    public byte[] ToArray() => value.ToArray();

    /// <summary>64 lowercase hex digits.</summary>
    public string ToHex() => value.ToHex();

    /// <summary>Parses 64 hex digits (either case).</summary>
    public static InfoHashV2 ParseHex(string hex) =>
        TryParseHex(hex, out var hash) ? hash : throw new FormatException($"'{hex}' is not a v2 info hash of 64 hex digits");

    /// <summary>Tries to parse 64 hex digits (either case).</summary>
    public static bool TryParseHex(string? hex, out InfoHashV2 hash)
    {
        var parsed = Sha256Value.TryParseHex(hex, out var raw);
        hash = parsed ? new InfoHashV2(raw.ToArray()) : default;
        return parsed;
    }

    /// <summary>64 lowercase hex digits.</summary>
    public override string ToString() => ToHex();
}
