using Testbed.Contracts.Peers;

namespace Testbed.Chaos.Tests.Execution;

/// <summary>Stand-in peers' /status documents: every field a peer serves, at genesis, for tests to change with <c>with</c>.</summary>
internal static class PeerStatuses
{
    private const string Zero = "0000000000000000000000000000000000000000000000000000000000000000";

    public static PeerStatus Of(string peer) => new(
        peer, "address", Ready: true, Height: 0, TipHash: Zero, CumulativeWork: "1", StateRoot: Zero, LiveStateRoot: Zero, StateRootsAgree: true,
        DifficultyBits: 8, Genesis: Zero, Swarm: null, AdvertisedSwarm: null, TorrentEndPoint: null, Tracker: null, TrackerError: null, Dht: null,
        ConnectedPeers: [], Banned: [], Mining: new MiningStatus("idle", 0, 0, 0, 1), Mempool: 0, BlocksRejected: 0,
        Sync: new SyncStatus(false, 0, 0, 0, null), FaultsEnabled: false, ActiveFaults: new Dictionary<string, FaultSettings>(), Boot: "boot-1",
        BlockLogSeq: 0, Broken: []);
}
