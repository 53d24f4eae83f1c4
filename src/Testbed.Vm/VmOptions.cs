namespace Testbed.Vm;

/// <summary>Identity of the peer running the VM (for telemetry) and every limit the VM enforces on its input.</summary>
public sealed class VmOptions
{
    /// <summary>Largest memory a machine may be configured with, so a state file cannot ask for an absurd allocation.</summary>
    public const int MaxMemoryWords = 1 << 20;

    /// <summary>Peer name put on the `testbed.peer` attribute of `vm.replay` spans.</summary>
    public string PeerName { get; init; } = "";

    /// <summary>Words of SUBLEQ memory (the seed's 100 by default).</summary>
    public int MemoryWords { get; init; } = 100;

    /// <summary>Step budget of one transaction: SUBLEQ steps plus one per named action.</summary>
    public long GasPerTransaction { get; init; } = 1_000_000;

    /// <summary>Step budget of a whole block (so a block of many heavy transactions stays cheap to replay).</summary>
    public long GasPerBlock { get; init; } = 50_000_000;

    /// <summary>Largest contract JSON, in UTF-8 bytes.</summary>
    public int MaxContractBytes { get; init; } = 64 * 1024;

    /// <summary>Most actions one transaction may carry.</summary>
    public int MaxActionsPerTransaction { get; init; } = 256;

    /// <summary>Longest id (student, course, proposal or NFT id), in characters.</summary>
    public int MaxIdLength { get; init; } = 128;

    /// <summary>Largest stored object (its canonical JSON), in bytes.</summary>
    public int MaxValueBytes { get; init; } = 4096;

    /// <summary>Deepest JSON nesting accepted in a contract.</summary>
    public int MaxJsonDepth { get; init; } = 16;

    /// <summary>Longest wallet address (hex digits).</summary>
    public int MaxAddressLength { get; init; } = 128;

    internal void Check()
    {
        if (MemoryWords < 3 || MemoryWords > MaxMemoryWords)
        {
            throw new ArgumentOutOfRangeException(nameof(MemoryWords), MemoryWords, $"memory must hold 3..{MaxMemoryWords} words");
        }

        if (GasPerTransaction < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(GasPerTransaction), GasPerTransaction, "gas per transaction must be positive");
        }

        if (GasPerBlock < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(GasPerBlock), GasPerBlock, "gas per block must be positive");
        }

        if (MaxContractBytes < 1 || MaxActionsPerTransaction < 1 || MaxIdLength < 1 || MaxValueBytes < 2 || MaxJsonDepth < 4 || MaxAddressLength < 1)
        {
            throw new ArgumentException("every VM limit must be positive (and JSON depth at least 4)");
        }
    }
}
