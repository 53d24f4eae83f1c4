using Testbed.Ledger.Blocks;
using Testbed.Ledger.Consensus;

namespace Testbed.Ledger.Chain;

/// <summary>
/// The genesis header, derived only from the network configuration so every peer agrees: height 0, previous hash =
/// SHA-256 of the configuration's canonical text, the configured genesis timestamp and initial difficulty, no
/// transactions, the empty VM's state root, a zero miner and nonce 0. It carries no signature and needs no work.
/// </summary>
public static class Genesis
{
    public static BlockHeader Header(NetworkConfig network, Hash256 emptyStateRoot) => new(
        BlockHeader.CurrentVersion,
        0,
        network.ConfigHash,
        network.GenesisTimestampMs,
        network.InitialDifficultyBits,
        TransactionsRoot.Compute([]),
        emptyStateRoot,
        Hash256.Zero,
        0);
}
