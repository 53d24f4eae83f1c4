using System.Security.Cryptography;
using Testbed.Bytes;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Dht;

/// <summary>A 160-bit DHT node id (BEP 5); also the key space of info hashes, compared by XOR distance.</summary>
public readonly record struct NodeId : IComparable<NodeId>, IFixedBytes<NodeId, Bytes20>
{
    /// <summary>Length in bytes.</summary>
    public const int Length = 20;

    /// <summary>Number of bits.</summary>
    public const int Bits = 160;

    private readonly FixedBytes<Bytes20> _value;

    private NodeId(FixedBytes<Bytes20> value) => _value = value;

    /// <summary>Wraps exactly 20 bytes.</summary>
    public NodeId(ReadOnlySpan<byte> bytes) => _value = new(bytes, "a node id");

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
    public NodeId Xor(NodeId other) => new(_value.Xor(other._value));

    /// <summary>How many leading bits this id shares with <paramref name="other"/> (160 when equal).</summary>
    public int CommonPrefixLength(NodeId other) => _value.Xor(other._value).LeadingZeroBits();

    /// <summary>Bit <paramref name="index"/> counted from the most significant (0) to the least (159).</summary>
    public bool GetBit(int index) => _value.GetBit(index);

    /// <summary>
    /// A random id that shares exactly the first <paramref name="prefixLength"/> bits with this one and differs in the
    /// next, so it falls in the bucket at that depth (used to refresh a bucket).
    /// </summary>
    public NodeId RandomWithPrefix(int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, Bits);
        Span<byte> result = stackalloc byte[Length];
        RandomNumberGenerator.Fill(result);
        for (var bit = 0; bit < prefixLength; bit++)
        {
            SetBit(result, bit, GetBit(bit));
        }

        if (prefixLength < Bits)
        {
            SetBit(result, prefixLength, !GetBit(prefixLength));
        }

        return new NodeId(result);
    }

    /// <summary>Writes the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination) => _value.CopyTo(destination);

    /// <summary>The 20 bytes as a new array.</summary>
    public byte[] ToArray() => _value.ToArray();

    /// <summary>Parses 40 hex digits (either case).</summary>
    public static NodeId ParseHex(string hex) =>
        FixedBytes<Bytes20>.ParseHex<NodeId>(hex ?? throw new ArgumentNullException(nameof(hex)), HexCase.Either, "a node id");

    /// <summary>Orders as a 160-bit unsigned number, so distances (see <see cref="Xor"/>) order by closeness.</summary>
    public int CompareTo(NodeId other) => _value.CompareTo(other._value);

    /// <summary>40 lowercase hex digits.</summary>
    public override string ToString() => _value.ToHex();

    static NodeId IFixedBytes<NodeId, Bytes20>.Wrap(FixedBytes<Bytes20> value) => new(value);

    private static void SetBit(Span<byte> bytes, int bit, bool value)
    {
        var mask = (byte)(0x80 >> (bit % 8));
        bytes[bit / 8] = value ? (byte)(bytes[bit / 8] | mask) : (byte)(bytes[bit / 8] & ~mask);
    }
}
