using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Testbed.Ledger;

/// <summary>An immutable 32-byte SHA-256 value (block hash, transactions root, address); ToString() is lowercase hex.</summary>
public readonly struct Hash256 : IEquatable<Hash256>
{
    public const int Size = 32;
    private static readonly byte[] ZeroBytes = new byte[Size];
    private readonly byte[]? bytes;

    public Hash256(ReadOnlySpan<byte> value)
    {
        if (value.Length != Size)
        {
            throw new ArgumentException($"a hash is {Size} bytes, got {value.Length}", nameof(value));
        }

        bytes = value.ToArray();
    }

    public static Hash256 Zero => default;

    public ReadOnlySpan<byte> Span => bytes ?? ZeroBytes;

    public bool IsZero => Span.SequenceEqual(ZeroBytes);

    public static Hash256 Of(ReadOnlySpan<byte> data) => new(SHA256.HashData(data));

    /// <summary>Parses exactly 64 lowercase hex digits (the only spelling the ledger writes).</summary>
    public static bool TryParse(string? hex, out Hash256 hash)
    {
        hash = default;
        if (hex is null || hex.Length != Size * 2)
        {
            return false;
        }

        foreach (var c in hex)
        {
            if (!char.IsAsciiDigit(c) && c is < 'a' or > 'f')
            {
                return false;
            }
        }

        hash = new Hash256(Convert.FromHexString(hex));
        return true;
    }

    public static Hash256 Parse(string hex) =>
        TryParse(hex, out var h) ? h : throw new FormatException($"not a 64-digit lowercase hex hash: '{hex}'");

    public byte[] ToArray() => Span.ToArray();

    public bool Equals(Hash256 other) => Span.SequenceEqual(other.Span);

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Hash256 other && Equals(other);

    public override int GetHashCode() => BinaryPrimitives.ReadInt32LittleEndian(Span);

    public override string ToString() => Convert.ToHexStringLower(Span);

    public static bool operator ==(Hash256 left, Hash256 right) => left.Equals(right);

    public static bool operator !=(Hash256 left, Hash256 right) => !left.Equals(right);
}
