using Testbed.Tracker.Announces;
using TrackerEvent = Testbed.Torrent.Trackers.TrackerEvent;

namespace Testbed.Tracker.Swarms;

/// <summary>
/// The peers of one torrent. A dense array (for random selection without allocation) plus an
/// index by peer id; removal swaps the last entry in. Guarded by one lock per swarm, so
/// announces to different torrents never contend.
/// </summary>
internal sealed class Swarm
{
    private const int InitialCapacity = 4;

    private readonly Lock gate = new();
    private readonly Dictionary<PeerId, int> index = [];
    private PeerEntry[] peers = new PeerEntry[InitialCapacity];
    private int count;
    private int seeders;
    private long downloaded;

    // A lower bound on the earliest moment any listed peer expires; a sweep runs once it passes,
    // so counts never include an expired peer.
    private long nextExpiry = long.MaxValue;
    private long lastActivity;

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
        lock (gate)
        {
            if (Retired)
            {
                result = default;
                return false;
            }

            lastActivity = now;
            SweepIfDue(now, store);
            var timeout = store.PeerTimeoutSeconds;
            var exists = index.TryGetValue(request.PeerId, out var slot);

            if (exists)
            {
                ref var existing = ref peers[slot];
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
                ref var entry = ref peers[slot];
                wasSeeder = entry.Seeder;
                entry.Address = address;
                entry.Port = request.Port;
                entry.LastSeen = now;
                entry.Key = request.Key ?? entry.Key;
                if (entry.Seeder != request.IsSeeder)
                {
                    entry.Seeder = request.IsSeeder;
                    seeders += request.IsSeeder ? 1 : -1;
                }
            }
            else
            {
                if (count >= store.Limits.MaxPeersPerTorrent)
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
                nextExpiry = Math.Min(nextExpiry, now + timeout);
                slot = count - 1;
            }

            if (request.Event == TrackerEvent.Completed && !wasSeeder)
            {
                downloaded++;
            }

            var picked = Select(slot, address, request.IsSeeder, sameFamilyOnly, selected);
            result = new SwarmAnnounceResult(AnnounceRefusal.None, Counts(), picked);
            return true;
        }
    }

    /// <summary>Counts after dropping expired peers.</summary>
    public SwarmCounts Scrape(long now, SwarmStore store)
    {
        lock (gate)
        {
            SweepIfDue(now, store);
            return Counts();
        }
    }

    /// <summary>Drops expired peers; retires the swarm when it has been empty and idle for a whole peer timeout.</summary>
    public bool SweepAndRetireIfIdle(long now, SwarmStore store)
    {
        lock (gate)
        {
            SweepIfDue(now, store);
            if (count == 0 && now - lastActivity >= store.PeerTimeoutSeconds)
            {
                Retired = true;
            }

            return Retired;
        }
    }

    private SwarmCounts Counts() => new(seeders, count - seeders, downloaded);

    private int Select(int selfSlot, PeerAddress selfAddress, bool selfIsSeeder, bool sameFamilyOnly, Span<PeerEndpoint> selected)
    {
        if (selected.IsEmpty || count == 0)
        {
            return 0;
        }

        // A random starting point spreads load over the swarm without shuffling or allocating.
        var start = count > selected.Length ? Random.Shared.Next(count) : 0;
        var picked = 0;
        for (var i = 0; i < count && picked < selected.Length; i++)
        {
            var position = start + i;
            if (position >= count)
            {
                position -= count;
            }

            ref readonly var entry = ref peers[position];
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
        if (now < nextExpiry)
        {
            return;
        }

        var timeout = store.PeerTimeoutSeconds;
        var earliest = long.MaxValue;
        for (var i = count - 1; i >= 0; i--)
        {
            var expiresAt = peers[i].LastSeen + timeout;
            if (expiresAt <= now)
            {
                RemoveAt(i, store);
            }
            else if (expiresAt < earliest)
            {
                earliest = expiresAt;
            }
        }

        nextExpiry = earliest;
    }

    private void Add(in PeerEntry entry)
    {
        if (count == peers.Length)
        {
            Array.Resize(ref peers, peers.Length * 2);
        }

        peers[count] = entry;
        index[entry.Id] = count;
        count++;
        if (entry.Seeder)
        {
            seeders++;
        }
    }

    private void RemoveAt(int slot, SwarmStore store)
    {
        var removed = peers[slot];
        var last = count - 1;
        if (slot != last)
        {
            peers[slot] = peers[last];
            index[peers[slot].Id] = slot;
        }

        peers[last] = default;
        index.Remove(removed.Id);
        count--;
        if (removed.Seeder)
        {
            seeders--;
        }

        store.ReleasePeer();

        // Give memory back after a swarm shrinks, so churn cannot pin peak-sized arrays forever.
        if (peers.Length > 64 && count < peers.Length / 4)
        {
            Array.Resize(ref peers, peers.Length / 2);
            index.TrimExcess();
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
