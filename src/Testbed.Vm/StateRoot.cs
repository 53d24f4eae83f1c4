using System.Buffers.Binary;
using System.Globalization;

namespace Testbed.Vm;

/// <summary>32-byte SHA-256 state root; ToString() is lowercase hex.</summary>
public readonly record struct StateRoot
{
    /// <summary>Length of a root in bytes.</summary>
    public const int Length = 32;

    // Four big-endian words keep the struct blittable and equality cheap, with no array to share.
    private readonly ulong _w0;
    private readonly ulong _w1;
    private readonly ulong _w2;
    private readonly ulong _w3;

    /// <summary>Creates a root from exactly 32 bytes.</summary>
    public StateRoot(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"a state root is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        _w0 = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _w1 = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _w2 = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _w3 = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    /// <summary>Parses 64 hex digits (either case).</summary>
    public static StateRoot Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length != Length * 2)
        {
            throw new FormatException($"a state root is {Length * 2} hex digits, got {hex.Length} characters");
        }

        try
        {
            return new StateRoot(Convert.FromHexString(hex));
        }
        catch (FormatException)
        {
            throw new FormatException($"a state root must be hex digits only: '{hex}'");
        }
    }

    /// <summary>Parses 64 hex digits, returning false instead of throwing.</summary>
    public static bool TryParse(string? hex, out StateRoot root)
    {
        root = default;
        if (hex is null || hex.Length != Length * 2 || !hex.All(Uri.IsHexDigit))
        {
            return false;
        }

        root = new StateRoot(Convert.FromHexString(hex));
        return true;
    }

    /// <summary>The 32 bytes of the root.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>Writes the 32 bytes of the root into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _w0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _w1);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _w2);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _w3);
    }

    /// <summary>Lowercase hex of the 32 bytes.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{_w0:x16}{_w1:x16}{_w2:x16}{_w3:x16}");
}
