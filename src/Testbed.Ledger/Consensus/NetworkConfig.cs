using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Testbed.Ledger.Consensus;

/// <summary>The consensus parameters every peer of one network must share; the genesis block is derived from them.</summary>
public sealed record NetworkConfig
{
    public string Name { get; init; } = "testbed";

    /// <summary>Genesis timestamp, unix milliseconds (fixed so that every peer derives the same genesis).</summary>
    public long GenesisTimestampMs { get; init; } = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    public uint InitialDifficultyBits { get; init; } = 16;

    public uint MinDifficultyBits { get; init; } = 1;

    public uint MaxDifficultyBits { get; init; } = 64;

    /// <summary>The block interval retargeting steers toward.</summary>
    public long TargetBlockIntervalMs { get; init; } = 10_000;

    /// <summary>Difficulty changes only at heights that are multiples of this, from the span of the previous window.</summary>
    public int RetargetWindowBlocks { get; init; } = 10;

    /// <summary>Largest change of difficulty at one retarget, in bits (one bit = a factor of two in work).</summary>
    public uint MaxRetargetStepBits { get; init; } = 2;

    /// <summary>How far ahead of the verifier's clock a block's timestamp may be.</summary>
    public long MaxFutureDriftMs { get; init; } = 120_000;

    public int MaxBlockBytes { get; init; } = 1024 * 1024;

    public int MaxTransactionsPerBlock { get; init; } = 256;

    /// <summary>Canonical text of every parameter; its SHA-256 is genesis's previous-hash field.</summary>
    public string Canonical() => string.Join('\n',
        "testbed-network-v1",
        "name=" + Name,
        "genesis_timestamp_ms=" + GenesisTimestampMs.ToString(CultureInfo.InvariantCulture),
        "initial_difficulty_bits=" + InitialDifficultyBits.ToString(CultureInfo.InvariantCulture),
        "min_difficulty_bits=" + MinDifficultyBits.ToString(CultureInfo.InvariantCulture),
        "max_difficulty_bits=" + MaxDifficultyBits.ToString(CultureInfo.InvariantCulture),
        "target_block_interval_ms=" + TargetBlockIntervalMs.ToString(CultureInfo.InvariantCulture),
        "retarget_window_blocks=" + RetargetWindowBlocks.ToString(CultureInfo.InvariantCulture),
        "max_retarget_step_bits=" + MaxRetargetStepBits.ToString(CultureInfo.InvariantCulture),
        "max_future_drift_ms=" + MaxFutureDriftMs.ToString(CultureInfo.InvariantCulture),
        "max_block_bytes=" + MaxBlockBytes.ToString(CultureInfo.InvariantCulture),
        "max_transactions_per_block=" + MaxTransactionsPerBlock.ToString(CultureInfo.InvariantCulture));

    public Hash256 ConfigHash => new(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical())));

    /// <summary>Rejects configurations no chain could work with.</summary>
    public void EnsureValid()
    {
        if (string.IsNullOrWhiteSpace(Name) || MinDifficultyBits > MaxDifficultyBits || MaxDifficultyBits > 255 ||
            InitialDifficultyBits < MinDifficultyBits || InitialDifficultyBits > MaxDifficultyBits || TargetBlockIntervalMs <= 0 ||
            RetargetWindowBlocks < 1 || MaxFutureDriftMs < 0 || MaxBlockBytes < 1024 || MaxTransactionsPerBlock < 0)
        {
            throw new ArgumentException($"inconsistent network configuration: {Canonical().Replace('\n', ' ')}");
        }
    }
}
