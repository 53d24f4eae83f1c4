using Testbed.Torrent.Dht;
using Testbed.Torrent.Dht.Krpc;
using Testbed.Torrent.Dht.RateLimiting;
using Testbed.Torrent.Dht.Storage;

namespace Testbed.Torrent.Tests.Dht;

public sealed class StorageTests
{
    private static readonly IPAddress Querier = IPAddress.Parse("127.0.0.7");

    [Fact]
    public void A_token_lives_up_to_10_minutes_and_only_for_its_address()
    {
        var time = new ManualTime();
        var tokens = new TokenManager(time);
        var token = tokens.Create(Querier);
        Assert.Equal(TokenManager.TokenLength, token.Length);
        Assert.True(tokens.IsValid(token, Querier));
        Assert.False(tokens.IsValid(token, IPAddress.Parse("127.0.0.8")));
        time.Advance(TimeSpan.FromMinutes(5)); // One rotation: still accepted under the previous secret.
        Assert.True(tokens.IsValid(token, Querier));
        time.Advance(TimeSpan.FromMinutes(4.99));
        Assert.True(tokens.IsValid(token, Querier));
        time.Advance(TimeSpan.FromMinutes(0.01)); // Two rotations: gone.
        Assert.False(tokens.IsValid(token, Querier));
        Assert.False(tokens.IsValid([.. token, 0], Querier));
    }

    [Fact]
    public void A_token_is_not_kept_alive_by_a_long_quiet_spell()
    {
        var time = new ManualTime();
        var tokens = new TokenManager(time);
        var token = tokens.Create(Querier);
        time.Advance(TimeSpan.FromHours(1)); // No use in between: the first check after must not find the old secret still "previous".
        Assert.False(tokens.IsValid(token, Querier));
    }

    [Fact]
    public void Peers_expire_after_30_minutes_and_the_store_is_bounded()
    {
        var time = new ManualTime();
        var store = new PeerStore(time, new PeerStoreLimits { MaxInfoHashes = 2, MaxPeersPerInfoHash = 3 });
        var a = new InfoHash(new byte[20]);
        var b = InfoHash.Compute("b"u8);
        var c = InfoHash.Compute("c"u8);
        for (var port = 1; port <= 5; port++)
        {
            store.Add(a, new IPEndPoint(Querier, port));
        }

        Assert.Equal(3, store.Get(a, 100).Count);
        Assert.True(store.Add(b, new IPEndPoint(Querier, 1)));
        Assert.False(store.Add(c, new IPEndPoint(Querier, 1)));
        Assert.Equal(2, store.Get(a, 2).Count);
        time.Advance(TimeSpan.FromMinutes(20));
        store.Add(b, new IPEndPoint(Querier, 1)); // Refreshed: lives 30 minutes from now.
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Empty(store.Get(a, 100));
        Assert.Single(store.Get(b, 100));
        Assert.True(store.Add(c, new IPEndPoint(Querier, 1))); // Room again once the expired hash is gone.
    }

    [Fact]
    public void Rate_limiter_drops_beyond_the_burst_and_refills_with_time()
    {
        var time = new ManualTime();
        var limiter = new QueryRateLimiter(perAddress: new(Rate: 10, Burst: 20), global: new(Rate: 25, Burst: 30), time);
        var granted = Enumerable.Range(0, 100).Count(_ => limiter.TryAcquire(Querier));
        Assert.Equal(20, granted);
        // Another address has its own bucket, but the global one is nearly spent.
        Assert.Equal(10, Enumerable.Range(0, 100).Count(_ => limiter.TryAcquire(IPAddress.Parse("127.0.0.9"))));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(10, Enumerable.Range(0, 100).Count(_ => limiter.TryAcquire(Querier)));
        Assert.Equal(170 + 90, limiter.Dropped);
    }

    [Fact]
    public void State_round_trips_and_garbage_is_refused()
    {
        var state = new DhtState(NodeId.Random(), [new NodeInfo(NodeId.Random(), new IPEndPoint(Querier, 4000))]);
        var decoded = DhtState.Decode(state.Encode());
        Assert.Equal(state.Id, decoded.Id);
        Assert.Equal(state.Nodes, decoded.Nodes);
        Assert.Throws<Testbed.Torrent.Bencoding.BencodeException>(() => DhtState.Decode(state.Encode()[..^3]));
        Assert.Throws<FormatException>(() => DhtState.Decode("d2:id3:abc5:nodes0:e"u8.ToArray()));
        Assert.Throws<FormatException>(() => DhtState.Decode("d2:id20:abcdefghij01234567895:nodes5:abcdee"u8.ToArray()));
    }
}
