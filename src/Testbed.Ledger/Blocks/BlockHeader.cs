using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace Testbed.Ledger.Blocks;

/// <summary>
/// The 160-byte proof-of-work preimage, big-endian: version u32 | height u64 | prev hash 32 | timestamp ms i64 |
/// difficulty bits u32 | transactions root 32 | state root 32 | miner address 32 | nonce u64. Block hash = SHA-256 of it.
/// </summary>
public sealed record BlockHeader(
    uint Version,
    ulong Height,
    Hash256 PreviousHash,
    long TimestampMs,
    uint DifficultyBits,
    Hash256 TransactionsRoot,
    Hash256 StateRoot,
    Hash256 Miner,
    ulong Nonce)
{
    public const int Size = 160;
    public const uint CurrentVersion = 1;

    public void WriteTo(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size);
        BinaryPrimitives.WriteUInt32BigEndian(destination[0..4], Version);
        BinaryPrimitives.WriteUInt64BigEndian(destination[4..12], Height);
        PreviousHash.Span.CopyTo(destination[12..44]);
        BinaryPrimitives.WriteInt64BigEndian(destination[44..52], TimestampMs);
        BinaryPrimitives.WriteUInt32BigEndian(destination[52..56], DifficultyBits);
        TransactionsRoot.Span.CopyTo(destination[56..88]);
        StateRoot.Span.CopyTo(destination[88..120]);
        Miner.Span.CopyTo(destination[120..152]);
        BinaryPrimitives.WriteUInt64BigEndian(destination[152..160], Nonce);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        WriteTo(bytes);
        return bytes;
    }

    public static BlockHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length != Size)
        {
            throw new ArgumentException($"a block header is {Size} bytes, got {source.Length}", nameof(source));
        }

        return new BlockHeader(
            BinaryPrimitives.ReadUInt32BigEndian(source[0..4]),
            BinaryPrimitives.ReadUInt64BigEndian(source[4..12]),
            new Hash256(source[12..44]),
            BinaryPrimitives.ReadInt64BigEndian(source[44..52]),
            BinaryPrimitives.ReadUInt32BigEndian(source[52..56]),
            new Hash256(source[56..88]),
            new Hash256(source[88..120]),
            new Hash256(source[120..152]),
            BinaryPrimitives.ReadUInt64BigEndian(source[152..160]));
    }

    /// <summary>Standard SHA-256 of the 160 header bytes.</summary>
    public Hash256 ComputeHash()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return new Hash256(SHA256.HashData(bytes));
    }

    /// <summary>Expected number of attempts to meet this difficulty: 2^bits, the block's contribution to chain work.</summary>
    public BigInteger Work => BigInteger.One << (int)DifficultyBits;
}
