using System.Net;
using Testbed.Contracts.Peers;

namespace Testbed.Chaos.Execution;

/// <summary>The listeners a peer's /status names, as endpoints (null when absent or unreadable).</summary>
public static class PeerStatusListeners
{
    /// <summary>Where the peer's network swarm listens.</summary>
    public static IPEndPoint? SwarmListener(this PeerStatus status) => Parse(status.Swarm);

    /// <summary>Where the peer serves block and segment torrents.</summary>
    public static IPEndPoint? TorrentListener(this PeerStatus status) => Parse(status.TorrentEndPoint);

    private static IPEndPoint? Parse(string? text) => IPEndPoint.TryParse(text ?? "", out var endPoint) ? endPoint : null;
}
