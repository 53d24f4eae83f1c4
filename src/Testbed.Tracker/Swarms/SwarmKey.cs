using System.Buffers.Binary;

namespace Testbed.Tracker.Swarms;

/// <summary>A 20-byte info hash held inline (no array), so the swarm table can key on it without allocating per announce.</summary>
public readonly struct SwarmKey : IEquatable<SwarmKey>
{
    /// <summary>Length of a BitTorrent v1 info hash, in bytes.</summary>
    public const int Length = 20;

    private readonly ulong a;
    private readonly ulong b;
    private readonly uint c;

    /// <summary>Reads the key from exactly 20 bytes.</summary>
    public SwarmKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"an info hash is {Length} bytes, got {bytes.Length}", nameof(bytes));
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

    /// <summary>Parses 40 hexadecimal digits.</summary>
    public static SwarmKey FromHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length != Length * 2)
        {
            throw new FormatException($"an info hash in hex is {Length * 2} characters, got {hex.Length}");
        }

        return new SwarmKey(Convert.FromHexString(hex));
    }

    /// <summary>Lower-case hexadecimal, the form logs and spans use.</summary>
    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <inheritdoc />
    public bool Equals(SwarmKey other) => a == other.a && b == other.b && c == other.c;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is SwarmKey other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(a, b, c);

    /// <inheritdoc />
    public override string ToString() => ToHex();

    /// <summary>Equality.</summary>
    public static bool operator ==(SwarmKey left, SwarmKey right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(SwarmKey left, SwarmKey right) => !left.Equals(right);
}
