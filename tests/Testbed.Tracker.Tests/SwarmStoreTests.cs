using static Testbed.Tracker.Tests.Requests;
using TrackerEvent = Testbed.Torrent.Trackers.TrackerEvent;

namespace Testbed.Tracker.Tests;

public class SwarmStoreTests
{
    private readonly ManualTimeProvider _clock = new();

    private SwarmStore NewStore(int maxTorrents = 1000, int maxPerTorrent = 1000, int maxPeers = 100_000, int timeoutSeconds = 300) =>
        new(new SwarmLimits(maxTorrents, maxPerTorrent, maxPeers, TimeSpan.FromSeconds(timeoutSeconds)), _clock);

    private static SwarmAnnounceResult Apply(SwarmStore store, AnnounceRequest request, byte address = 1, int want = 50)
    {
        var selected = new PeerEndpoint[want];
        return store.Announce(request, V4(address), selected);
    }

    [Fact]
    public void Counts_seeders_and_leechers_and_completions()
    {
        var store = NewStore();
        var hash = Hash(1);
        Apply(store, Announce(hash, Peer(1), left: 0, announceEvent: TrackerEvent.Started), 1);
        Apply(store, Announce(hash, Peer(2), left: 10, announceEvent: TrackerEvent.Started), 2);
        Apply(store, Announce(hash, Peer(3), left: 10, announceEvent: TrackerEvent.Started), 3);
        Assert.Equal(new SwarmCounts(1, 2, 0), store.Scrape(hash));

        // Peer 2 finishes: one completion, and it moves from leecher to seeder.
        var result = Apply(store, Announce(hash, Peer(2), left: 0, announceEvent: TrackerEvent.Completed), 2);
        Assert.Equal(new SwarmCounts(2, 1, 1), result.Counts);

        // A repeated "completed" from a peer already seeding does not count twice.
        Apply(store, Announce(hash, Peer(2), left: 0, announceEvent: TrackerEvent.Completed), 2);
        Assert.Equal(new SwarmCounts(2, 1, 1), store.Scrape(hash));

        // Regular announces do not change counts.
        Apply(store, Announce(hash, Peer(3), left: 5), 3);
        Assert.Equal(new SwarmCounts(2, 1, 1), store.Scrape(hash));
        Assert.Equal(3, store.PeerCount);
    }

    [Fact]
    public void Stopped_removes_the_peer_and_an_unknown_stop_creates_nothing()
    {
        var store = NewStore();
        var hash = Hash(1);
        Apply(store, Announce(hash, Peer(1), left: 0));
        Apply(store, Announce(hash, Peer(2)), 2);
        var result = Apply(store, Announce(hash, Peer(1), left: 0, announceEvent: TrackerEvent.Stopped));
        Assert.True(result.Accepted);
        Assert.Equal(0, result.Selected);
        Assert.Equal(new SwarmCounts(0, 1, 0), store.Scrape(hash));

        Apply(store, Announce(Hash(99), Peer(5), announceEvent: TrackerEvent.Stopped));
        Assert.Equal(1, store.TorrentCount);
        Assert.Equal(1, store.PeerCount);
    }

    [Fact]
    public void Hands_out_other_peers_never_the_announcer_and_never_seeders_to_a_seeder()
    {
        var store = NewStore();
        var hash = Hash(1);
        Apply(store, Announce(hash, Peer(1), port: 1001, left: 0), 1);
        Apply(store, Announce(hash, Peer(2), port: 1002, left: 0), 2);
        Apply(store, Announce(hash, Peer(3), port: 1003, left: 9), 3);

        var selected = new PeerEndpoint[50];
        var leecher = store.Announce(Announce(hash, Peer(4), port: 1004, left: 9), V4(4), selected);
        Assert.Equal(3, leecher.Selected);
        Assert.DoesNotContain(selected[..3], p => p.Id == Peer(4));
        Assert.Contains(selected[..3], p => p.Id == Peer(1) && p.Port == 1001 && p.Address == V4(1));

        var seeder = store.Announce(Announce(hash, Peer(1), port: 1001, left: 0), V4(1), selected);
        Assert.Equal(2, seeder.Selected);
        Assert.All(selected[..2], p => Assert.True(p.Id == Peer(3) || p.Id == Peer(4)));
    }

    [Fact]
    public void Selection_is_bounded_by_the_span_and_varies_across_a_large_swarm()
    {
        var store = NewStore();
        var hash = Hash(1);
        for (var i = 0; i < 500; i++)
        {
            Apply(store, Announce(hash, Peer(i), port: (ushort)(1000 + i)), (byte)(i % 250));
        }

        var seen = new HashSet<PeerId>();
        for (var round = 0; round < 20; round++)
        {
            var selected = new PeerEndpoint[30];
            var result = store.Announce(Announce(hash, Peer(10_000)), V4(1), selected);
            Assert.Equal(30, result.Selected);
            Assert.Equal(30, selected.Select(p => p.Id).Distinct().Count());
            seen.UnionWith(selected.Select(p => p.Id));
        }

        Assert.True(seen.Count > 100, $"only {seen.Count} distinct peers handed out over 20 announces");
    }

    [Fact]
    public void Peers_that_stop_announcing_expire_and_idle_swarms_are_forgotten()
    {
        var store = NewStore(timeoutSeconds: 120);
        var hash = Hash(1);
        Apply(store, Announce(hash, Peer(1), left: 0), 1);
        _clock.Advance(TimeSpan.FromSeconds(60));
        Apply(store, Announce(hash, Peer(2)), 2);
        Assert.Equal(new SwarmCounts(1, 1, 0), store.Scrape(hash));

        _clock.Advance(TimeSpan.FromSeconds(61));
        // Peer 1 is 121 s silent, peer 2 61 s: only peer 1 is gone, and it is not handed out.
        Assert.Equal(new SwarmCounts(0, 1, 0), store.Scrape(hash));
        var selected = new PeerEndpoint[10];
        Assert.Equal(0, store.Announce(Announce(hash, Peer(2)), V4(2), selected).Selected);
        Assert.Equal(1, store.PeerCount);

        _clock.Advance(TimeSpan.FromSeconds(121));
        Assert.Equal(0, store.Scrape(hash).Peers);
        Assert.Equal(0, store.PeerCount);
        Assert.Equal(1, store.TorrentCount);

        // Empty for a whole timeout: the sweeper forgets the torrent.
        _clock.Advance(TimeSpan.FromSeconds(121));
        Assert.Equal(1, store.Sweep());
        Assert.Equal(0, store.TorrentCount);

        // A later announce to it starts a new swarm.
        Assert.True(Apply(store, Announce(hash, Peer(3))).Accepted);
        Assert.Equal(1, store.TorrentCount);
    }

    [Fact]
    public void Sweep_expires_peers_of_swarms_nobody_announces_to()
    {
        var store = NewStore(timeoutSeconds: 30);
        for (var t = 0; t < 50; t++)
        {
            for (var p = 0; p < 20; p++)
            {
                Apply(store, Announce(Hash(t), Peer(p)), (byte)p);
            }
        }

        Assert.Equal(1000, store.PeerCount);
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, store.Sweep());
        Assert.Equal(1000, store.PeerCount);

        // Last announce 31 s ago: every peer expired, and every swarm has been idle a whole timeout.
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(50, store.Sweep());
        Assert.Equal(0, store.PeerCount);
        Assert.Equal(0, store.TorrentCount);
    }

    [Fact]
    public void Torrent_and_peer_bounds_refuse_rather_than_grow()
    {
        var store = NewStore(maxTorrents: 10, maxPerTorrent: 5, maxPeers: 15);
        var refusals = new List<AnnounceRefusal>();
        for (var t = 0; t < 20; t++)
        {
            refusals.Add(Apply(store, Announce(Hash(t), Peer(t))).Refusal);
        }

        Assert.Equal(10, refusals.Count(r => r == AnnounceRefusal.None));
        Assert.Equal(10, refusals.Count(r => r == AnnounceRefusal.TooManyTorrents));
        Assert.Equal(10, store.TorrentCount);

        // Torrent 0 has one peer; four more fill it to its bound of 5, the next is refused.
        for (var p = 100; p < 104; p++)
        {
            Assert.Equal(AnnounceRefusal.None, Apply(store, Announce(Hash(0), Peer(p))).Refusal);
        }

        Assert.Equal(AnnounceRefusal.SwarmFull, Apply(store, Announce(Hash(0), Peer(200))).Refusal);
        Assert.Equal(5, store.Scrape(Hash(0)).Peers);

        // 14 peers now; the 15th fits the global bound, the 16th does not.
        Assert.Equal(AnnounceRefusal.None, Apply(store, Announce(Hash(1), Peer(300))).Refusal);
        Assert.Equal(AnnounceRefusal.TooManyPeers, Apply(store, Announce(Hash(1), Peer(301))).Refusal);
        Assert.Equal(15, store.PeerCount);

        // A known peer may still announce when the tracker is full.
        Assert.True(Apply(store, Announce(Hash(0), Peer(100))).Accepted);
    }

    [Fact]
    public void A_key_protects_a_peer_id_against_another_address()
    {
        var store = NewStore();
        var hash = Hash(1);
        Assert.True(Apply(store, Announce(hash, Peer(1), key: 42), 1).Accepted);
        Assert.Equal(AnnounceRefusal.PeerIdInUse, Apply(store, Announce(hash, Peer(1), key: 7), 2).Refusal);
        Assert.Equal(AnnounceRefusal.PeerIdInUse, Apply(store, Announce(hash, Peer(1)), 2).Refusal);

        // The same key proves it is the same client after its address changed.
        var selected = new PeerEndpoint[5];
        Apply(store, Announce(hash, Peer(2)), 9);
        store.Announce(Announce(hash, Peer(1), key: 42), V4(3), selected);
        store.Announce(Announce(hash, Peer(2)), V4(9), selected);
        Assert.Equal(V4(3), selected[0].Address);
    }

    [Fact]
    public void Same_family_selection_keeps_ipv6_peers_out_of_ipv4_answers()
    {
        var store = NewStore();
        var hash = Hash(1);
        var v6 = PeerAddress.FromV6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        var selected = new PeerEndpoint[10];
        store.Announce(Announce(hash, Peer(1)), v6, selected);
        store.Announce(Announce(hash, Peer(2)), V4(2), selected);
        Assert.Equal(1, store.Announce(Announce(hash, Peer(3)), V4(3), selected, sameFamilyOnly: true).Selected);
        Assert.Equal(Peer(2), selected[0].Id);
        Assert.Equal(2, store.Announce(Announce(hash, Peer(3)), V4(3), selected).Selected);
    }

    [Fact]
    public void Ipv4_mapped_addresses_fold_to_ipv4()
    {
        var mapped = PeerAddress.From(System.Net.IPAddress.Parse("::ffff:10.0.0.1"));
        Assert.True(mapped.IsV4);
        Assert.Equal(V4(1), mapped);
    }

    [Fact]
    public async Task Concurrent_announces_keep_counts_exact()
    {
        var store = NewStore(maxPerTorrent: 100_000);
        var hashes = Enumerable.Range(0, 8).Select(Hash).ToArray();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            var selected = new PeerEndpoint[50];
            for (var i = 0; i < 2000; i++)
            {
                var request = Announce(hashes[i % hashes.Length], Peer((worker * 100_000) + i), left: i % 4 == 0 ? 0 : 1);
                store.Announce(request, V4((byte)worker), selected);
                if (i % 10 == 9)
                {
                    store.Announce(request with { Event = TrackerEvent.Stopped }, V4((byte)worker), selected);
                }
            }
        })));

        var expected = 8 * (2000 - 200);
        Assert.Equal(expected, store.PeerCount);
        Assert.Equal(expected, hashes.Sum(h => store.Scrape(h).Peers));
        Assert.Equal(8 * 2000 / 4, hashes.Sum(h => store.Scrape(h).Seeders));
    }
}
