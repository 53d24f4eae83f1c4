using System.Net;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Dht.Storage;

/// <summary>
/// Peers announced to this node, per info hash, each kept <see cref="PeerStoreLimits.PeerLifetime"/> (30 minutes) after its
/// last announce. Bounded: at most <see cref="PeerStoreLimits.MaxInfoHashes"/> info hashes and
/// <see cref="PeerStoreLimits.MaxPeersPerInfoHash"/> peers each; beyond that new ones are dropped (after expired ones are
/// cleared), so a flood of announces cannot grow memory. Thread-safe.
/// </summary>
public sealed class PeerStore
{
    private readonly object _gate = new();
    private readonly Dictionary<InfoHash, Dictionary<IPEndPoint, DateTimeOffset>> _peers = [];
    private readonly TimeProvider _time;

    /// <summary>Creates an empty store.</summary>
    public PeerStore(TimeProvider? time = null, PeerStoreLimits? limits = null)
    {
        limits ??= new PeerStoreLimits();
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxInfoHashes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxPeersPerInfoHash, 1);
        _time = time ?? TimeProvider.System;
        Limits = limits;
    }

    /// <summary>The bounds this store keeps.</summary>
    public PeerStoreLimits Limits { get; }

    /// <summary>Info hashes with at least one live peer.</summary>
    public int InfoHashCount
    {
        get
        {
            lock (_gate)
            {
                Expire(_time.GetUtcNow());
                return _peers.Count;
            }
        }
    }

    /// <summary>Stores or refreshes a peer; false when a bound left it out.</summary>
    public bool Add(InfoHash infoHash, IPEndPoint peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (!_peers.TryGetValue(infoHash, out var set))
            {
                if (_peers.Count >= Limits.MaxInfoHashes)
                {
                    Expire(now);
                    if (_peers.Count >= Limits.MaxInfoHashes)
                    {
                        return false;
                    }
                }

                set = [];
                _peers[infoHash] = set;
            }

            if (!set.ContainsKey(peer) && set.Count >= Limits.MaxPeersPerInfoHash)
            {
                ExpireSet(set, now);
                if (set.Count >= Limits.MaxPeersPerInfoHash)
                {
                    return false;
                }
            }

            set[peer] = now + Limits.PeerLifetime;
            return true;
        }
    }

    /// <summary>Up to <paramref name="max"/> live peers of <paramref name="infoHash"/>, in random order.</summary>
    public List<IPEndPoint> Get(InfoHash infoHash, int max)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (!_peers.TryGetValue(infoHash, out var set))
            {
                return [];
            }

            ExpireSet(set, now);
            if (set.Count == 0)
            {
                _peers.Remove(infoHash);
                return [];
            }

            var all = set.Keys.ToArray();
            Random.Shared.Shuffle(all);
            return [.. all.Take(max)];
        }
    }

    private void Expire(DateTimeOffset now)
    {
        foreach (var (hash, set) in _peers.ToList())
        {
            ExpireSet(set, now);
            if (set.Count == 0)
            {
                _peers.Remove(hash);
            }
        }
    }

    private static void ExpireSet(Dictionary<IPEndPoint, DateTimeOffset> set, DateTimeOffset now)
    {
        foreach (var (peer, expires) in set.ToList())
        {
            if (expires <= now)
            {
                set.Remove(peer);
            }
        }
    }
}
