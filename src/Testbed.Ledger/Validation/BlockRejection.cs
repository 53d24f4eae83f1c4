namespace Testbed.Ledger.Validation;

/// <summary>Every reason a block can be refused.</summary>
public enum BlockRejectionReason
{
    Malformed,
    Oversized,
    AlgorithmNotAllowed,
    KidMismatch,
    BadSignature,
    InsufficientWork,
    WrongDifficulty,
    WrongPreviousHash,
    WrongHeight,
    TimestampOutOfBounds,
    TransactionsRootMismatch,
    InvalidTransaction,
    StateRootMismatch,
}

/// <summary>A refused block: the typed reason and a message naming what was wrong.</summary>
public sealed class BlockRejectedException(BlockRejectionReason reason, string detail) : Exception($"{reason}: {detail}")
{
    public BlockRejectionReason Reason { get; } = reason;

    public string Detail { get; } = detail;
}
