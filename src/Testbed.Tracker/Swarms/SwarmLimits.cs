namespace Testbed.Tracker.Swarms;

/// <summary>The bounds that keep the swarm store's memory finite.</summary>
/// <param name="MaxTorrents">Torrents tracked at once.</param>
/// <param name="MaxPeersPerTorrent">Peers per torrent.</param>
/// <param name="MaxPeers">Peers over all torrents.</param>
/// <param name="PeerTimeout">How long a peer stays listed after its last announce.</param>
public sealed record SwarmLimits(int MaxTorrents, int MaxPeersPerTorrent, int MaxPeers, TimeSpan PeerTimeout)
{
    /// <summary>Generous defaults for tests and tools.</summary>
    public static SwarmLimits Default { get; } = new(100_000, 20_000, 1_000_000, TimeSpan.FromMinutes(61));
}
