using System.Numerics;
using Testbed.Ledger.Blocks;
using Testbed.Ledger.Storage;
using Testbed.Ledger.Validation;

namespace Testbed.Ledger.Chain;

/// <summary>A block in the in-memory index (all branches), linked to its parent.</summary>
internal sealed class ChainEntry(Hash256 hash, BlockHeader header, BigInteger work, ChainEntry? parent, StoredBlockStatus status)
{
    public Hash256 Hash { get; } = hash;

    public BlockHeader Header { get; } = header;

    public long Height => (long)Header.Height;

    public BigInteger Work { get; } = work;

    public ChainEntry? Parent { get; } = parent;

    public StoredBlockStatus Status { get; set; } = status;

    public bool OnMain { get; set; }

    public byte[]? Effects { get; set; }

    /// <summary>Why the block was found invalid, when that happened in this process (the store keeps only the status).</summary>
    public BlockRejectionReason? InvalidReason { get; set; }

    public StoredBlock ToStored() => new(Hash, Header, Work, Status, OnMain, Effects);
}
