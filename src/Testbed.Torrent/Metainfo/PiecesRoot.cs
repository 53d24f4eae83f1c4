using Testbed.Bytes;

namespace Testbed.Torrent.Metainfo;

/// <summary>A file's BEP 52 `pieces root`: the root of the SHA-256 merkle tree over its 16 KiB blocks.</summary>
public readonly record struct PiecesRoot
{
    /// <summary>Length in bytes.</summary>
    public const int Length = 32;

    private readonly FixedBytes<Bytes32> _value;

    /// <summary>Wraps exactly 32 bytes.</summary>
    public PiecesRoot(ReadOnlySpan<byte> bytes) => _value = new(bytes, "a pieces root");

    /// <summary>Writes the 32 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination) => _value.CopyTo(destination);

    /// <summary>The 32 bytes as a new array.</summary>
    public byte[] ToArray() => _value.ToArray();

    /// <summary>64 lowercase hex digits.</summary>
    public string ToHex() => _value.ToHex();

    /// <summary>64 lowercase hex digits.</summary>
    public override string ToString() => _value.ToHex();
}
