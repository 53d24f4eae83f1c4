using System.Numerics;
using Testbed.Ledger.Blocks;
using Testbed.Ledger.Transactions;
using Testbed.Ledger.Validation;
using Testbed.Vm;

namespace Testbed.Ledger.Chain;

/// <summary>The current best block and what it commits to.</summary>
public sealed record ChainTip(Hash256 Hash, long Height, BigInteger CumulativeWork, Hash256 StateRoot, long TimestampMs, uint DifficultyBits);

/// <summary>What happened to a block handed to the chain.</summary>
public enum AddBlockStatus
{
    /// <summary>Extended the best chain.</summary>
    Connected,

    /// <summary>Stored on a branch with less work than the best chain.</summary>
    SideBranch,

    /// <summary>Its branch now has the most work; the chain reorganised onto it.</summary>
    Reorganized,

    /// <summary>Already known.</summary>
    Duplicate,

    /// <summary>Its parent is unknown; fetch the parent and offer it again.</summary>
    Orphan,

    /// <summary>Invalid; see Reason.</summary>
    Rejected,
}

/// <summary>The outcome of <see cref="Blockchain.AddBlock"/>, with the typed rejection reason when refused.</summary>
public sealed record AddBlockResult(AddBlockStatus Status, Hash256? Hash, long Height, BlockRejectionReason? Reason = null, string? Detail = null, int ReorgDepth = 0)
{
    public bool Accepted => Status is AddBlockStatus.Connected or AddBlockStatus.SideBranch or AddBlockStatus.Reorganized or AddBlockStatus.Duplicate;
}

/// <summary>A block ready to mine: header with nonce 0 and the transactions it commits to.</summary>
public sealed record BlockTemplate(BlockHeader Header, IReadOnlyList<SignedTransaction> Transactions)
{
    /// <summary>Set by the chain that built the template (<see cref="Blockchain.CreateTemplate"/>): its parent and the state it leads to.</summary>
    internal TemplateOrigin? Origin { get; init; }
}

/// <summary>Per-peer settings of a chain instance.</summary>
public sealed class ChainOptions
{
    public string PeerName { get; init; } = "";

    public VmOptions? Vm { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Deliberate defects, for proving that the chaos checks catch a broken peer; <see cref="ChainDefects.None"/> in every real use.</summary>
    public ChainDefects Defects { get; init; }

    /// <summary>Threads that check one block's transactions (default: every core; 1 for a one-core measurement).</summary>
    public int VerifyThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Transactions the chain's <see cref="Blockchain.VerifiedTransactions"/> keeps (0: none, every block's are checked in full).</summary>
    public int VerifiedTransactionCapacity { get; init; } = 10_000;

    /// <summary>Now on this peer's clock, in unix milliseconds (a test's fake time when one is set).</summary>
    internal long NowMs() => Time.GetUtcNow().ToUnixTimeMilliseconds();
}

/// <summary>
/// Deliberate defects of a chain (the testbed's broken-peer mode, <c>Testbed:Broken</c>): each breaks one property the
/// chaos checker verifies, so a check is shown to fail before its pass is believed. Never set outside those tests.
/// </summary>
[Flags]
public enum ChainDefects
{
    /// <summary>A correct chain.</summary>
    None = 0,

    /// <summary>Accepts a block whoever signed it: neither miner = signer nor the ES256 signature is checked.</summary>
    SkipSignatureCheck = 1,

    /// <summary>After every reorganisation the live VM state drifts away from the new tip's state root (a change no block made).</summary>
    CorruptStateAfterReorg = 2,

    /// <summary>On open, forgets the newest block of the best chain, as a store that lost its last acknowledged write would.</summary>
    LoseLastBlock = 4,
}

/// <summary>A block of the chain's index: hash, height, whether it is on the best chain.</summary>
public sealed record IndexedBlock(Hash256 Hash, long Height, bool OnMainChain);
