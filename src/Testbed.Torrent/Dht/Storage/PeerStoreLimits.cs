namespace Testbed.Torrent.Dht.Storage;

/// <summary>The bounds of a <see cref="PeerStore"/>: how many announces it holds and for how long.</summary>
public sealed record PeerStoreLimits
{
    /// <summary>Most info hashes the store holds.</summary>
    public int MaxInfoHashes { get; init; } = 2000;

    /// <summary>Most peers stored per info hash.</summary>
    public int MaxPeersPerInfoHash { get; init; } = 200;

    /// <summary>How long an announced peer is kept after its last announce.</summary>
    public TimeSpan PeerLifetime { get; init; } = TimeSpan.FromMinutes(30);
}
