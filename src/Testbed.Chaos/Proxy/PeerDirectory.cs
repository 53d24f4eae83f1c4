using System.Collections.Concurrent;

namespace Testbed.Chaos.Proxy;

/// <summary>
/// Who is who when peers share 127.0.0.1 (they bind no address of their own): swarm port to peer name (from /status), and
/// BitTorrent peer_id to swarm port (from tracker announces through <see cref="TrackerFront"/>). The proxy then names a
/// connection's source from the peer_id of the handshake the dialler sends first.
/// </summary>
public sealed class PeerDirectory
{
    /// <summary>Most peer ids remembered (a restarted peer gets a new one).</summary>
    public const int MaxPeerIds = 4096;

    private readonly ConcurrentDictionary<string, int> _swarmPorts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _peerIds = new(StringComparer.Ordinal);

    /// <summary>Records the swarm port a peer reported.</summary>
    public void SetSwarmPort(string name, int port) => _swarmPorts[name] = port;

    /// <summary>Records that the announcer with <paramref name="peerId"/> listens on <paramref name="swarmPort"/>.</summary>
    public void LearnPeerId(ReadOnlySpan<byte> peerId, int swarmPort)
    {
        if (peerId.Length != 20)
        {
            return;
        }

        if (_peerIds.Count >= MaxPeerIds)
        {
            _peerIds.Clear();
        }

        _peerIds[Convert.ToHexString(peerId)] = swarmPort;
    }

    /// <summary>The peer listening on <paramref name="port"/>, if known.</summary>
    public string? NameBySwarmPort(int port) => _swarmPorts.FirstOrDefault(pair => pair.Value == port).Key;

    /// <summary>The peer that announced <paramref name="peerId"/>, if known.</summary>
    public string? NameByPeerId(ReadOnlySpan<byte> peerId) =>
        peerId.Length == 20 && _peerIds.TryGetValue(Convert.ToHexString(peerId), out var port) ? NameBySwarmPort(port) : null;
}
