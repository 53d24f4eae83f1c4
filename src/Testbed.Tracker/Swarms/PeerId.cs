using System.Buffers.Binary;

namespace Testbed.Tracker.Swarms;

/// <summary>A peer's self-chosen 20-byte id, held inline; client prefixes such as "-TR3000-" are common, so hashing mixes every byte.</summary>
public readonly struct PeerId : IEquatable<PeerId>
{
    /// <summary>Length of a peer id, in bytes.</summary>
    public const int Length = 20;

    private readonly ulong a;
    private readonly ulong b;
    private readonly uint c;

    /// <summary>Reads the id from exactly 20 bytes.</summary>
    public PeerId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"a peer id is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>Writes the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], c);
    }

    /// <summary>The 20 bytes as a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <inheritdoc />
    public bool Equals(PeerId other) => a == other.a && b == other.b && c == other.c;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PeerId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(a, b, c);

    /// <summary>Equality.</summary>
    public static bool operator ==(PeerId left, PeerId right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(PeerId left, PeerId right) => !left.Equals(right);
}
