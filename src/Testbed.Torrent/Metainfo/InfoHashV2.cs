using System.Security.Cryptography;
using Testbed.Bytes;

namespace Testbed.Torrent.Metainfo;

/// <summary>A BEP 52 (v2) info hash: the 32-byte SHA-256 of the bencoded info dictionary, as received.</summary>
public readonly record struct InfoHashV2 : IFixedBytes<InfoHashV2, Bytes32>
{
    /// <summary>Length in bytes.</summary>
    public const int Length = 32;

    private readonly FixedBytes<Bytes32> _value;

    /// <summary>Wraps exactly 32 bytes.</summary>
    public InfoHashV2(ReadOnlySpan<byte> bytes) => _value = new(bytes, "a v2 info hash");

    private InfoHashV2(FixedBytes<Bytes32> value) => _value = value;

    /// <summary>SHA-256 of the given bencoded info dictionary bytes.</summary>
    public static InfoHashV2 Compute(ReadOnlySpan<byte> bencodedInfo) => FixedBytes<Bytes32>.Digest<InfoHashV2>(bencodedInfo, SHA256.HashData);

    /// <summary>
    /// The first 20 bytes: what BEP 52 puts in handshakes, tracker announces and other places sized for a v1 hash.
    /// </summary>
    public InfoHash Truncated => new(_value.Span[..InfoHash.Length]);

    /// <summary>Writes the 32 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination) => _value.CopyTo(destination);

    /// <summary>The 32 bytes as a new array.</summary>
    public byte[] ToArray() => _value.ToArray();

    /// <summary>64 lowercase hex digits.</summary>
    public string ToHex() => _value.ToHex();

    /// <summary>Parses 64 hex digits (either case).</summary>
    public static InfoHashV2 ParseHex(string hex) => FixedBytes<Bytes32>.ParseHex<InfoHashV2>(hex, HexCase.Either, "a v2 info hash");

    /// <summary>Tries to parse 64 hex digits (either case).</summary>
    public static bool TryParseHex(string? hex, out InfoHashV2 hash) => FixedBytes<Bytes32>.TryParseHex(hex, HexCase.Either, out hash);

    /// <summary>64 lowercase hex digits.</summary>
    public override string ToString() => _value.ToHex();

    static InfoHashV2 IFixedBytes<InfoHashV2, Bytes32>.Wrap(FixedBytes<Bytes32> value) => new(value);
}
