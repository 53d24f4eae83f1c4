namespace Testbed.Contracts.Peers;

/// <summary>A peer's <c>GET /status</c>: chain tip, endpoints, membership, mining, catch-up, faults and its process.</summary>
/// <param name="Peer">The peer's name.</param>
/// <param name="Address">Its wallet address.</param>
/// <param name="Ready">Whether /health says healthy.</param>
/// <param name="Height">Height of the best tip.</param>
/// <param name="TipHash">Hash of the best tip.</param>
/// <param name="CumulativeWork">Cumulative work of the best chain, decimal.</param>
/// <param name="StateRoot">The tip header's state root.</param>
/// <param name="LiveStateRoot">The live VM's state root, read under one lock with the tip.</param>
/// <param name="StateRootsAgree">Whether the two roots are equal (they differ only when the state drifted).</param>
/// <param name="DifficultyBits">The tip's difficulty.</param>
/// <param name="Genesis">The genesis block's hash.</param>
/// <param name="Swarm">Where the network swarm listens.</param>
/// <param name="AdvertisedSwarm">The swarm address announced to the tracker, if other than <paramref name="Swarm"/>.</param>
/// <param name="TorrentEndPoint">Where block and segment torrents are served.</param>
/// <param name="Tracker">The tracker's URL, if any.</param>
/// <param name="TrackerError">The last announce's error, if it failed.</param>
/// <param name="Dht">The DHT node, if the peer runs one.</param>
/// <param name="ConnectedPeers">Swarm connections whose extension handshake arrived.</param>
/// <param name="Banned">Peers banned, with the reason.</param>
/// <param name="Mining">The miner.</param>
/// <param name="Mempool">Pending transactions.</param>
/// <param name="BlocksRejected">Blocks this process rejected.</param>
/// <param name="Sync">Catch-up.</param>
/// <param name="FaultsEnabled">Whether the fault hooks are served.</param>
/// <param name="ActiveFaults">Faults in force, by name.</param>
/// <param name="Boot">This process's id (a new one after every restart).</param>
/// <param name="BlockLogSeq">The block log's last sequence number.</param>
/// <param name="Broken">Deliberate defects (empty for an honest peer).</param>
public sealed record PeerStatus(
    string Peer,
    string Address,
    bool Ready,
    long Height,
    string TipHash,
    string CumulativeWork,
    string StateRoot,
    string LiveStateRoot,
    bool StateRootsAgree,
    uint DifficultyBits,
    string Genesis,
    string? Swarm,
    string? AdvertisedSwarm,
    string? TorrentEndPoint,
    string? Tracker,
    string? TrackerError,
    DhtStatus? Dht,
    IReadOnlyList<ConnectedPeer> ConnectedPeers,
    IReadOnlyList<BannedPeer> Banned,
    MiningStatus Mining,
    int Mempool,
    long BlocksRejected,
    SyncStatus Sync,
    bool FaultsEnabled,
    IReadOnlyDictionary<string, FaultSettings> ActiveFaults,
    string Boot,
    long BlockLogSeq,
    IReadOnlyList<string> Broken);

/// <summary>One swarm connection of <see cref="PeerStatus.ConnectedPeers"/>.</summary>
public sealed record ConnectedPeer(string Name, string PeerId, string? EndPoint, long ClaimedHeight);

/// <summary>One ban of <see cref="PeerStatus.Banned"/>.</summary>
public sealed record BannedPeer(string PeerId, string Reason);

/// <summary>The peer's DHT node.</summary>
/// <param name="EndPoint">Where it listens (UDP).</param>
/// <param name="Nodes">Nodes in its routing table.</param>
/// <param name="Lookups">Lookups of the network's info hash so far.</param>
/// <param name="PeersFound">Network members the last lookup found.</param>
public sealed record DhtStatus(string EndPoint, int Nodes, int Lookups, int PeersFound);

/// <summary>Catch-up so far.</summary>
/// <param name="Running">Whether a catch-up pass runs now.</param>
/// <param name="SegmentsDownloaded">Chain-segment torrents downloaded.</param>
/// <param name="BlocksSynced">Blocks added by catch-up.</param>
/// <param name="ApplySeconds">Seconds spent verifying and storing them.</param>
/// <param name="LastError">The last pass's error, if it failed.</param>
public sealed record SyncStatus(bool Running, long SegmentsDownloaded, long BlocksSynced, double ApplySeconds, string? LastError);
