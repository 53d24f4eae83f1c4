using Testbed.Tracker.Announces;

namespace Testbed.Tracker.Swarms;

/// <summary>
/// The peers of one torrent. A dense array (for random selection without allocation) plus an
/// index by peer id; removal swaps the last entry in. Guarded by one lock per swarm, so
/// announces to different torrents never contend.
/// </summary>
internal sealed class Swarm
{
    private const int InitialCapacity = 4;

    private readonly Lock _gate = new();
    private readonly Dictionary<PeerId, int> _index = [];
    private PeerEntry[] _peers = new PeerEntry[InitialCapacity];
    private int _count;
    private int _seeders;
    private long _downloaded;

    // A lower bound on the earliest moment any listed peer expires; a sweep runs once it passes,
    // so counts never include an expired peer.
    private long _nextExpiry = long.MaxValue;
    private long _lastActivity;

    /// <summary>Set under the lock when the store drops this swarm; an announcer holding a stale reference retries.</summary>
    public bool Retired { get; private set; }

    public bool TryAnnounce(
        in AnnounceRequest request,
        PeerAddress address,
        long now,
        SwarmStore store,
        Span<PeerEndpoint> selected,
        bool sameFamilyOnly,
        out SwarmAnnounceResult result)
    {
        lock (_gate)
        {
            if (Retired)
            {
                result = default;
                return false;
            }

            _lastActivity = now;
            SweepIfDue(now, store);
            var timeout = store.PeerTimeoutSeconds;
            var exists = _index.TryGetValue(request.PeerId, out var slot);

            if (exists)
            {
                ref var existing = ref _peers[slot];
                if (existing.Address != address && existing.Key is { } registeredKey && request.Key != registeredKey)
                {
                    result = new SwarmAnnounceResult(AnnounceRefusal.PeerIdInUse, Counts(), 0);
                    return true;
                }
            }

            if (request.Event == TrackerEvent.Stopped)
            {
                if (exists)
                {
                    RemoveAt(slot, store);
                }

                result = new SwarmAnnounceResult(AnnounceRefusal.None, Counts(), 0);
                return true;
            }

            var wasSeeder = false;
            if (exists)
            {
                ref var entry = ref _peers[slot];
                wasSeeder = entry.Seeder;
                entry.Address = address;
                entry.Port = request.Port;
                entry.LastSeen = now;
                entry.Key = request.Key ?? entry.Key;
                if (entry.Seeder != request.IsSeeder)
                {
                    entry.Seeder = request.IsSeeder;
                    _seeders += request.IsSeeder ? 1 : -1;
                }
            }
            else
            {
                if (_count >= store.Limits.MaxPeersPerTorrent)
                {
                    result = new SwarmAnnounceResult(AnnounceRefusal.SwarmFull, Counts(), 0);
                    return true;
                }

                if (!store.TryReservePeer())
                {
                    result = new SwarmAnnounceResult(AnnounceRefusal.TooManyPeers, Counts(), 0);
                    return true;
                }

                Add(new PeerEntry
                {
                    Id = request.PeerId,
                    Address = address,
                    Port = request.Port,
                    Seeder = request.IsSeeder,
                    Key = request.Key,
                    LastSeen = now,
                });
                _nextExpiry = Math.Min(_nextExpiry, now + timeout);
                slot = _count - 1;
            }

            if (request.Event == TrackerEvent.Completed && !wasSeeder)
            {
                _downloaded++;
            }

            var picked = Select(slot, address, request.IsSeeder, sameFamilyOnly, selected);
            result = new SwarmAnnounceResult(AnnounceRefusal.None, Counts(), picked);
            return true;
        }
    }

    /// <summary>Counts after dropping expired peers.</summary>
    public SwarmCounts Scrape(long now, SwarmStore store)
    {
        lock (_gate)
        {
            SweepIfDue(now, store);
            return Counts();
        }
    }

    /// <summary>Drops expired peers; retires the swarm when it has been empty and idle for a whole peer timeout.</summary>
    public bool SweepAndRetireIfIdle(long now, SwarmStore store)
    {
        lock (_gate)
        {
            SweepIfDue(now, store);
            if (_count == 0 && now - _lastActivity >= store.PeerTimeoutSeconds)
            {
                Retired = true;
            }

            return Retired;
        }
    }

    private SwarmCounts Counts() => new(_seeders, _count - _seeders, _downloaded);

    private int Select(int selfSlot, PeerAddress selfAddress, bool selfIsSeeder, bool sameFamilyOnly, Span<PeerEndpoint> selected)
    {
        if (selected.IsEmpty || _count == 0)
        {
            return 0;
        }

        // A random starting point spreads load over the swarm without shuffling or allocating.
        var start = _count > selected.Length ? Random.Shared.Next(_count) : 0;
        var picked = 0;
        for (var i = 0; i < _count && picked < selected.Length; i++)
        {
            var position = start + i;
            if (position >= _count)
            {
                position -= _count;
            }

            ref readonly var entry = ref _peers[position];
            if (position == selfSlot || entry.Port == 0 || (selfIsSeeder && entry.Seeder) ||
                (sameFamilyOnly && entry.Address.IsV4 != selfAddress.IsV4))
            {
                continue;
            }

            selected[picked++] = new PeerEndpoint(entry.Id, entry.Address, entry.Port);
        }

        return picked;
    }

    private void SweepIfDue(long now, SwarmStore store)
    {
        if (now < _nextExpiry)
        {
            return;
        }

        var timeout = store.PeerTimeoutSeconds;
        var earliest = long.MaxValue;
        for (var i = _count - 1; i >= 0; i--)
        {
            var expiresAt = _peers[i].LastSeen + timeout;
            if (expiresAt <= now)
            {
                RemoveAt(i, store);
            }
            else if (expiresAt < earliest)
            {
                earliest = expiresAt;
            }
        }

        _nextExpiry = earliest;
    }

    private void Add(in PeerEntry entry)
    {
        if (_count == _peers.Length)
        {
            Array.Resize(ref _peers, _peers.Length * 2);
        }

        _peers[_count] = entry;
        _index[entry.Id] = _count;
        _count++;
        if (entry.Seeder)
        {
            _seeders++;
        }
    }

    private void RemoveAt(int slot, SwarmStore store)
    {
        var removed = _peers[slot];
        var last = _count - 1;
        if (slot != last)
        {
            _peers[slot] = _peers[last];
            _index[_peers[slot].Id] = slot;
        }

        _peers[last] = default;
        _index.Remove(removed.Id);
        _count--;
        if (removed.Seeder)
        {
            _seeders--;
        }

        store.ReleasePeer();

        // Give memory back after a swarm shrinks, so churn cannot pin peak-sized arrays forever.
        if (_peers.Length > 64 && _count < _peers.Length / 4)
        {
            Array.Resize(ref _peers, _peers.Length / 2);
            _index.TrimExcess();
        }
    }

    private struct PeerEntry
    {
        public PeerId Id;
        public PeerAddress Address;
        public ushort Port;
        public bool Seeder;
        public uint? Key;
        public long LastSeen;
    }
}
