using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Testbed.Bytes;

/// <summary>20 bytes held inline: SHA-1 digests, BEP 5 node ids, peer ids.</summary>
[InlineArray(20)]
internal struct Bytes20
{
    private byte _first;
}

/// <summary>32 bytes held inline: SHA-256 digests and roots.</summary>
[InlineArray(32)]
internal struct Bytes32
{
    private byte _first;
}

/// <summary>Which hex spellings a type reads; every type writes lowercase.</summary>
internal enum HexCase
{
    /// <summary>Upper or lower case digits.</summary>
    Either,

    /// <summary>Only lowercase digits (the one spelling the ledger writes, so a hash has one text form).</summary>
    LowerOnly,
}

/// <summary>A digest function such as <c>SHA256.HashData</c>: writes the digest of <paramref name="source"/> into <paramref name="destination"/>.</summary>
internal delegate int DigestFunction(ReadOnlySpan<byte> source, Span<byte> destination);

/// <summary>
/// A hash or id type built on <see cref="FixedBytes{TBuffer}"/>: it wraps a value that is already the right length, so the
/// shared parsers can return the type itself.
/// </summary>
internal interface IFixedBytes<TSelf, TBuffer>
    where TSelf : struct, IFixedBytes<TSelf, TBuffer>
    where TBuffer : unmanaged
{
    /// <summary>The type holding <paramref name="value"/>.</summary>
    static abstract TSelf Wrap(FixedBytes<TBuffer> value);
}

/// <summary>
/// The one fixed-size bytes value under every hash and id type (Hash256, StateRoot, InfoHash, InfoHashV2, PiecesRoot, NodeId,
/// PeerId): the bytes are held inline in <typeparamref name="TBuffer"/> (<see cref="Bytes20"/> or <see cref="Bytes32"/>), so the
/// value is copy-safe and compares, hashes and orders without allocating. Order is that of the bytes read as one big-endian
/// unsigned number; text is lowercase hex. Linked into each project that has such a type (src/Shared), internal to each.
/// </summary>
internal readonly struct FixedBytes<TBuffer> : IEquatable<FixedBytes<TBuffer>>, IComparable<FixedBytes<TBuffer>>
    where TBuffer : unmanaged
{
    private readonly TBuffer _buffer;

    /// <summary>Holds exactly <see cref="Length"/> bytes; <paramref name="what"/> ("a node id") names the value when they are not.</summary>
    public FixedBytes(ReadOnlySpan<byte> bytes, string what)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"{what} is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        _buffer = MemoryMarshal.Read<TBuffer>(bytes);
    }

    private FixedBytes(TBuffer buffer) => _buffer = buffer;

    /// <summary>Length in bytes.</summary>
    public static int Length => Unsafe.SizeOf<TBuffer>();

    /// <summary>The bytes, in place.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> Span => MemoryMarshal.AsBytes(new ReadOnlySpan<TBuffer>(in _buffer));

    /// <summary>Whether every byte is zero.</summary>
    public bool IsZero => !Span.ContainsAnyExcept((byte)0);

    /// <summary>The digest of <paramref name="data"/> by <paramref name="digest"/> (one of <see cref="Length"/> bytes), as the type that wraps it.</summary>
    public static TSelf Digest<TSelf>(ReadOnlySpan<byte> data, DigestFunction digest)
        where TSelf : struct, IFixedBytes<TSelf, TBuffer>
    {
        var result = default(TBuffer);
        digest(data, MemoryMarshal.AsBytes(new Span<TBuffer>(ref result)));
        return TSelf.Wrap(new FixedBytes<TBuffer>(result));
    }

    /// <summary>Parses exactly 2 × <see cref="Length"/> hex digits of the given case into the type that wraps the value.</summary>
    public static bool TryParseHex<TSelf>(string? hex, HexCase spelling, out TSelf result)
        where TSelf : struct, IFixedBytes<TSelf, TBuffer>
    {
        var parsed = HexProblem(hex, spelling) is null;
        result = parsed ? TSelf.Wrap(Decode(hex!)) : default;
        return parsed;
    }

    /// <summary>
    /// Parses exactly 2 × <see cref="Length"/> hex digits of the given case, or throws a <see cref="FormatException"/> that names
    /// <paramref name="what"/> and the problem (the length, or the first character that is not a digit of that case).
    /// </summary>
    public static TSelf ParseHex<TSelf>(string? hex, HexCase spelling, string what)
        where TSelf : struct, IFixedBytes<TSelf, TBuffer>
    {
        var problem = HexProblem(hex, spelling);
        return problem is null
            ? TSelf.Wrap(Decode(hex!))
            : throw new FormatException($"'{hex}' is not {what} of {Length * 2} {(spelling == HexCase.LowerOnly ? "lowercase " : "")}hex digits: {problem}");
    }

    /// <summary>Writes the bytes into the start of <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException($"destination needs {Length} bytes", nameof(destination));
        }

        Span.CopyTo(destination);
    }

    /// <summary>The bytes as a new array.</summary>
    public byte[] ToArray() => Span.ToArray();

    /// <summary>2 × <see cref="Length"/> lowercase hex digits.</summary>
    public string ToHex() => Convert.ToHexStringLower(Span);

    /// <summary>Bytewise XOR (the BEP 5 distance).</summary>
    public FixedBytes<TBuffer> Xor(FixedBytes<TBuffer> other)
    {
        var result = default(TBuffer);
        var target = MemoryMarshal.AsBytes(new Span<TBuffer>(ref result));
        var left = Span;
        var right = other.Span;

        // Eight bytes at a time; the last eight may overlap the ones before (writing the same bytes again).
        var last = Length - 8;
        for (var i = 0; i < last; i += 8)
        {
            MemoryMarshal.Write(target[i..], MemoryMarshal.Read<ulong>(left[i..]) ^ MemoryMarshal.Read<ulong>(right[i..]));
        }

        MemoryMarshal.Write(target[last..], MemoryMarshal.Read<ulong>(left[last..]) ^ MemoryMarshal.Read<ulong>(right[last..]));
        return new FixedBytes<TBuffer>(result);
    }

    /// <summary>How many bits lead before the first set one (8 × <see cref="Length"/> when all are zero).</summary>
    public int LeadingZeroBits()
    {
        var span = Span;
        var index = span.IndexOfAnyExcept((byte)0);
        return index < 0 ? Length * 8 : (index * 8) + BitOperations.LeadingZeroCount((uint)span[index]) - 24;
    }

    /// <summary>Bit <paramref name="index"/> counted from the most significant (0).</summary>
    public bool GetBit(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Length * 8);
        return (Span[index >> 3] & (0x80 >> (index & 7))) != 0;
    }

    /// <inheritdoc />
    public bool Equals(FixedBytes<TBuffer> other) => Span.SequenceEqual(other.Span);

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is FixedBytes<TBuffer> other && Equals(other);

    /// <summary>Mixes every byte (ids such as peer ids share long client prefixes), eight at a time.</summary>
    public override int GetHashCode()
    {
        var span = Span;
        var hash = default(HashCode);
        for (var i = 0; i + 8 <= span.Length; i += 8)
        {
            hash.Add(BinaryPrimitives.ReadUInt64LittleEndian(span[i..]));
        }

        if (span.Length % 8 != 0)
        {
            hash.Add(BinaryPrimitives.ReadUInt64LittleEndian(span[^8..]));
        }

        return hash.ToHashCode();
    }

    /// <summary>Orders as one big-endian unsigned number: -1, 0 or 1.</summary>
    public int CompareTo(FixedBytes<TBuffer> other) => Math.Sign(Span.SequenceCompareTo(other.Span));

    /// <summary>Lowercase hex.</summary>
    public override string ToString() => ToHex();

    /// <summary>Null when <paramref name="hex"/> is 2 × <see cref="Length"/> digits of the case; otherwise what is wrong with it.</summary>
    internal static string? HexProblem(string? hex, HexCase spelling)
    {
        if (hex is null)
        {
            return "there is no text";
        }

        if (hex.Length != Length * 2)
        {
            return $"it is {hex.Length} characters";
        }

        for (var i = 0; i < hex.Length; i++)
        {
            var c = hex[i];
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f') && (spelling == HexCase.LowerOnly || c is not (>= 'A' and <= 'F')))
            {
                return $"'{c}' at {i} is not a {(spelling == HexCase.LowerOnly ? "lowercase " : "")}hex digit";
            }
        }

        return null;
    }

    private static FixedBytes<TBuffer> Decode(string hex)
    {
        var result = default(TBuffer);
        Convert.FromHexString(hex, MemoryMarshal.AsBytes(new Span<TBuffer>(ref result)), out _, out _);
        return new FixedBytes<TBuffer>(result);
    }
}
