using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Dht;

/// <summary>A 160-bit DHT node id (BEP 5); also the key space of info hashes, compared by XOR distance.</summary>
public readonly record struct NodeId : IComparable<NodeId>
{
    /// <summary>Length in bytes.</summary>
    public const int Length = 20;

    /// <summary>Number of bits.</summary>
    public const int Bits = 160;

    // Three integers, as InfoHash: a copy-safe value type that compares by value without allocating.
    private readonly ulong high;
    private readonly ulong middle;
    private readonly uint low;

    private NodeId(ulong high, ulong middle, uint low)
    {
        this.high = high;
        this.middle = middle;
        this.low = low;
    }

    /// <summary>Wraps exactly 20 bytes.</summary>
    public NodeId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"a node id is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        high = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        middle = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        low = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>A uniformly random id from a cryptographic source.</summary>
    public static NodeId Random()
    {
        Span<byte> bytes = stackalloc byte[Length];
        RandomNumberGenerator.Fill(bytes);
        return new NodeId(bytes);
    }

    /// <summary>The info hash as a point of the same key space.</summary>
    public static NodeId From(InfoHash infoHash)
    {
        Span<byte> bytes = stackalloc byte[Length];
        infoHash.CopyTo(bytes);
        return new NodeId(bytes);
    }

    /// <summary>The XOR distance to <paramref name="other"/>, itself a 160-bit value that orders by closeness.</summary>
    public NodeId Xor(NodeId other) => new(high ^ other.high, middle ^ other.middle, low ^ other.low);

    /// <summary>How many leading bits this id shares with <paramref name="other"/> (160 when equal).</summary>
    public int CommonPrefixLength(NodeId other)
    {
        var distance = Xor(other);
        if (distance.high != 0)
        {
            return BitOperations.LeadingZeroCount(distance.high);
        }

        if (distance.middle != 0)
        {
            return 64 + BitOperations.LeadingZeroCount(distance.middle);
        }

        return distance.low != 0 ? 128 + BitOperations.LeadingZeroCount(distance.low) : Bits;
    }

    /// <summary>Bit <paramref name="index"/> counted from the most significant (0) to the least (159).</summary>
    public bool GetBit(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Bits);
        return index switch
        {
            < 64 => ((high >> (63 - index)) & 1) != 0,
            < 128 => ((middle >> (127 - index)) & 1) != 0,
            _ => ((low >> (159 - index)) & 1) != 0,
        };
    }

    /// <summary>
    /// A random id that shares exactly the first <paramref name="prefixLength"/> bits with this one and differs in the
    /// next, so it falls in the bucket at that depth (used to refresh a bucket).
    /// </summary>
    public NodeId RandomWithPrefix(int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, Bits);
        Span<byte> mine = stackalloc byte[Length];
        Span<byte> result = stackalloc byte[Length];
        CopyTo(mine);
        RandomNumberGenerator.Fill(result);
        for (var bit = 0; bit < prefixLength; bit++)
        {
            SetBit(result, bit, (mine[bit / 8] & (0x80 >> (bit % 8))) != 0);
        }

        if (prefixLength < Bits)
        {
            SetBit(result, prefixLength, (mine[prefixLength / 8] & (0x80 >> (prefixLength % 8))) == 0);
        }

        return new NodeId(result);
    }

    /// <summary>Writes the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException($"destination needs {Length} bytes", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, high);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], middle);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], low);
    }

    /// <summary>The 20 bytes as a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>Parses 40 hex digits.</summary>
    public static NodeId ParseHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        return hex.Length == Length * 2 ? new NodeId(Convert.FromHexString(hex)) : throw new FormatException($"'{hex}' is not a node id of 40 hex digits");
    }

    /// <summary>Orders as a 160-bit unsigned number, so distances (see <see cref="Xor"/>) order by closeness.</summary>
    public int CompareTo(NodeId other)
    {
        var order = high.CompareTo(other.high);
        if (order == 0)
        {
            order = middle.CompareTo(other.middle);
        }

        return order != 0 ? order : low.CompareTo(other.low);
    }

    /// <summary>40 lowercase hex digits.</summary>
    public override string ToString() => Convert.ToHexStringLower(ToArray());

    private static void SetBit(Span<byte> bytes, int bit, bool value)
    {
        var mask = (byte)(0x80 >> (bit % 8));
        bytes[bit / 8] = value ? (byte)(bytes[bit / 8] | mask) : (byte)(bytes[bit / 8] & ~mask);
    }
}
