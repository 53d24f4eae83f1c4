using Testbed.Bytes;

namespace Testbed.Tracker.Swarms;

/// <summary>A peer's self-chosen 20-byte id, held inline; client prefixes such as "-TR3000-" are common, so hashing mixes every byte.</summary>
public readonly record struct PeerId
{
    /// <summary>Length of a peer id, in bytes.</summary>
    public const int Length = 20;

    private readonly FixedBytes<Bytes20> _value;

    /// <summary>Reads the id from exactly 20 bytes.</summary>
    public PeerId(ReadOnlySpan<byte> bytes) => _value = new(bytes, "a peer id");

    /// <summary>Writes the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination) => _value.CopyTo(destination);

    /// <summary>The 20 bytes as a new array.</summary>
    public byte[] ToArray() => _value.ToArray();
}
