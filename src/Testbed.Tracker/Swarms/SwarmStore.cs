using System.Collections.Concurrent;
using Testbed.Tracker.Announces;
using Testbed.Torrent.Metainfo;

namespace Testbed.Tracker.Swarms;

/// <summary>
/// Every swarm the tracker knows: peers per info hash with expiry, seeder and leecher counts,
/// and hard bounds on torrents and peers so memory stays finite whatever clients send.
/// </summary>
public sealed class SwarmStore
{
    private readonly ConcurrentDictionary<InfoHash, Swarm> _swarms = new();
    private readonly TimeProvider _time;
    private int _torrentCount;
    private int _peerCount;

    /// <summary>Creates an empty store.</summary>
    public SwarmStore(SwarmLimits limits, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        Limits = limits;
        _time = time ?? TimeProvider.System;
        PeerTimeoutSeconds = Math.Max(1, (long)limits.PeerTimeout.TotalSeconds);
    }

    /// <summary>The bounds in force.</summary>
    public SwarmLimits Limits { get; }

    /// <summary>Torrents tracked now.</summary>
    public int TorrentCount => Volatile.Read(ref _torrentCount);

    /// <summary>Peers tracked now, over all torrents (expired peers count until swept).</summary>
    public int PeerCount => Volatile.Read(ref _peerCount);

    internal long PeerTimeoutSeconds { get; }

    private long Now => _time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>
    /// Applies an announce from <paramref name="address"/> and writes up to <c>selected.Length</c>
    /// other peers into <paramref name="selected"/> (only the announcer's address family when
    /// <paramref name="sameFamilyOnly"/>, as UDP answers carry one family).
    /// </summary>
    public SwarmAnnounceResult Announce(in AnnounceRequest request, PeerAddress address, Span<PeerEndpoint> selected, bool sameFamilyOnly = false)
    {
        var now = Now;
        while (true)
        {
            if (!_swarms.TryGetValue(request.InfoHash, out var swarm))
            {
                if (request.Event == TrackerEvent.Stopped)
                {
                    // A peer leaving a swarm we do not know changes nothing; do not create one for it.
                    return new SwarmAnnounceResult(AnnounceRefusal.None, default, 0);
                }

                if (Interlocked.Increment(ref _torrentCount) > Limits.MaxTorrents)
                {
                    Interlocked.Decrement(ref _torrentCount);
                    return new SwarmAnnounceResult(AnnounceRefusal.TooManyTorrents, default, 0);
                }

                var created = new Swarm();
                if (!_swarms.TryAdd(request.InfoHash, created))
                {
                    Interlocked.Decrement(ref _torrentCount);
                    continue;
                }

                swarm = created;
            }

            if (swarm.TryAnnounce(request, address, now, this, selected, sameFamilyOnly, out var result))
            {
                return result;
            }

            // The sweeper retired this swarm between lookup and lock; look it up again.
        }
    }

    /// <summary>Counts for one swarm; zeros for a torrent the tracker does not know.</summary>
    public SwarmCounts Scrape(InfoHash infoHash) =>
        _swarms.TryGetValue(infoHash, out var swarm) ? swarm.Scrape(Now, this) : default;

    /// <summary>Drops expired peers everywhere and forgets swarms empty for a whole peer timeout; returns the torrents forgotten.</summary>
    public int Sweep()
    {
        var now = Now;
        var forgotten = 0;
        foreach (var (key, swarm) in _swarms)
        {
            if (swarm.SweepAndRetireIfIdle(now, this) &&
                _swarms.TryRemove(new KeyValuePair<InfoHash, Swarm>(key, swarm)))
            {
                Interlocked.Decrement(ref _torrentCount);
                forgotten++;
            }
        }

        return forgotten;
    }

    internal bool TryReservePeer()
    {
        if (Interlocked.Increment(ref _peerCount) > Limits.MaxPeers)
        {
            Interlocked.Decrement(ref _peerCount);
            return false;
        }

        return true;
    }

    internal void ReleasePeer() => Interlocked.Decrement(ref _peerCount);
}
