using System.Numerics;
using Testbed.Torrent.Messages;

namespace Testbed.Torrent.PeerWire;

/// <summary>Which pieces a peer has, in wire order (most significant bit of byte 0 is piece 0).</summary>
public sealed class Bitfield
{
    private readonly byte[] _bits;

    /// <summary>An empty bitfield for <paramref name="length"/> pieces.</summary>
    public Bitfield(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _bits = new byte[(length + 7) / 8];
    }

    /// <summary>Number of pieces.</summary>
    public int Length { get; }

    /// <summary>Number of pieces set.</summary>
    public int Count { get; private set; }

    /// <summary>True when every piece is set.</summary>
    public bool IsComplete => Count == Length;

    /// <summary>Whether piece <paramref name="index"/> is set.</summary>
    public bool this[int index] => (_bits[index >> 3] & (0x80 >> (index & 7))) != 0;

    /// <summary>Sets piece <paramref name="index"/>; returns false if it was already set.</summary>
    public bool Set(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Length, nameof(index));
        var mask = (byte)(0x80 >> (index & 7));
        if ((_bits[index >> 3] & mask) != 0)
        {
            return false;
        }

        _bits[index >> 3] |= mask;
        Count++;
        return true;
    }

    /// <summary>Sets every piece (a seeder, or a BEP 6 have all).</summary>
    public void SetAll()
    {
        for (var i = 0; i < Length; i++)
        {
            Set(i);
        }
    }

    /// <summary>The wire bytes (a copy).</summary>
    public byte[] ToBytes() => (byte[])_bits.Clone();

    /// <summary>Reads a bitfield message payload; its length must fit the piece count and its spare bits must be clear.</summary>
    public static Bitfield FromBytes(ReadOnlySpan<byte> payload, int length)
    {
        var field = new Bitfield(length);
        if (payload.Length != field._bits.Length)
        {
            throw new PeerProtocolException($"bitfield of {payload.Length} bytes for {length} pieces (expected {field._bits.Length})");
        }

        payload.CopyTo(field._bits);
        if (length % 8 != 0 && (field._bits[^1] & (0xFF >> (length % 8))) != 0)
        {
            throw new PeerProtocolException("bitfield has spare bits set past the last piece");
        }

        foreach (var b in field._bits)
        {
            field.Count += BitOperations.PopCount(b);
        }

        return field;
    }
}
