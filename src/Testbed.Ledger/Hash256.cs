using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Testbed.Bytes;

namespace Testbed.Ledger;

/// <summary>An immutable 32-byte SHA-256 value (block hash, transactions root, address); ToString() is lowercase hex.</summary>
public readonly record struct Hash256 : IFixedBytes<Hash256, Bytes32>
{
    public const int Size = 32;
    private readonly FixedBytes<Bytes32> _value;

    public Hash256(ReadOnlySpan<byte> value) => _value = new(value, "a hash");

    private Hash256(FixedBytes<Bytes32> value) => _value = value;

    public static Hash256 Zero => default;

    [UnscopedRef]
    public ReadOnlySpan<byte> Span => _value.Span;

    public bool IsZero => _value.IsZero;

    public static Hash256 Of(ReadOnlySpan<byte> data) => FixedBytes<Bytes32>.Digest<Hash256>(data, SHA256.HashData);

    /// <summary>Parses exactly 64 lowercase hex digits (the only spelling the ledger writes).</summary>
    public static bool TryParse(string? hex, out Hash256 hash) => FixedBytes<Bytes32>.TryParseHex(hex, HexCase.LowerOnly, out hash);

    public static Hash256 Parse(string hex) => FixedBytes<Bytes32>.ParseHex<Hash256>(hex, HexCase.LowerOnly, "a hash");

    public byte[] ToArray() => _value.ToArray();

    public override string ToString() => _value.ToHex();

    static Hash256 IFixedBytes<Hash256, Bytes32>.Wrap(FixedBytes<Bytes32> value) => new(value);
}
