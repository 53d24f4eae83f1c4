using Testbed.Torrent.Dht;
using Testbed.Torrent.Dht.Routing;

namespace Testbed.Torrent.Tests.Dht;

public sealed class RoutingTableTests
{
    private static readonly NodeId Own = NodeId.ParseHex("8000000000000000000000000000000000000000");

    private static IPEndPoint EndPoint(int i) => new(IPAddress.Parse($"10.0.{i / 250}.{(i % 250) + 1}"), 6881);

    /// <summary>An id sharing exactly <paramref name="prefix"/> leading bits with <see cref="Own"/>, made distinct by <paramref name="tail"/>.</summary>
    private static NodeId IdAt(int prefix, int tail)
    {
        var bytes = Own.ToArray();
        bytes[prefix / 8] ^= (byte)(0x80 >> (prefix % 8));
        bytes[19] ^= (byte)tail;
        bytes[18] ^= (byte)(tail >> 8);
        return new NodeId(bytes);
    }

    [Fact]
    public void Only_nodes_that_answered_enter_and_our_own_id_never()
    {
        var table = new RoutingTable(Own);
        Assert.Equal(ObserveResult.Ignored, table.Observe(IdAt(0, 1), EndPoint(1), responded: false));
        Assert.Equal(ObserveResult.Ignored, table.Observe(Own, EndPoint(2), responded: true));
        Assert.Equal(0, table.Count);
        Assert.Equal(ObserveResult.Added, table.Observe(IdAt(0, 1), EndPoint(1), responded: true));
        Assert.Equal(ObserveResult.Updated, table.Observe(IdAt(0, 1), EndPoint(1), responded: false));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void The_bucket_holding_our_id_splits_and_the_others_stop_at_k()
    {
        var table = new RoutingTable(Own, bucketSize: 8);
        // 12 nodes in the far half (prefix 0): the one bucket splits once, then the far bucket is full at 8.
        for (var i = 0; i < 12; i++)
        {
            table.Observe(IdAt(0, i + 1), EndPoint(i), responded: true);
        }

        Assert.Equal([8, 0], table.BucketSizes());
        Assert.Equal(4, table.ReplacementSizes()[0]);
        // Nodes near us keep splitting our bucket: the table grows buckets, not a limit.
        for (var prefix = 1; prefix <= 20; prefix++)
        {
            Assert.Equal(ObserveResult.Added, table.Observe(IdAt(prefix, 1), EndPoint(100 + prefix), responded: true));
        }

        Assert.Equal(28, table.Count);
        Assert.Equal(8, table.BucketSizes()[0]);
        Assert.True(table.BucketCount > 2);
        Assert.All(table.BucketSizes(), size => Assert.InRange(size, 0, 8));
        Assert.False(table.WouldAccept(IdAt(0, 200)));
        Assert.True(table.WouldAccept(IdAt(30, 1)));
    }

    [Fact]
    public void Nodes_turn_questionable_after_15_minutes_and_bad_after_failures_and_bad_ones_are_replaced()
    {
        var time = new ManualTime();
        var table = new RoutingTable(Own, time, bucketSize: 2);
        table.Observe(IdAt(0, 1), EndPoint(1), responded: true);
        table.Observe(IdAt(0, 2), EndPoint(2), responded: true);
        table.Observe(IdAt(1, 1), EndPoint(3), responded: true); // Splits nothing more: bucket 1 is ours and has room.
        Assert.Equal(NodeState.Good, table.StateOf(IdAt(0, 1)));
        time.Advance(TimeSpan.FromMinutes(15));
        Assert.Equal(NodeState.Questionable, table.StateOf(IdAt(0, 1)));
        // A query from a node that has answered before makes it good again.
        table.Observe(IdAt(0, 2), EndPoint(2), responded: false);
        Assert.Equal(NodeState.Good, table.StateOf(IdAt(0, 2)));

        // The far bucket is full: a newcomer waits as a replacement, and the questionable member is named for a ping.
        Assert.Equal(ObserveResult.Cached, table.Observe(IdAt(0, 3), EndPoint(4), responded: true));
        Assert.Equal([IdAt(0, 1)], table.QuestionableIn(IdAt(0, 3)).Select(n => n.Id));
        table.Failed(IdAt(0, 1));
        Assert.Equal(NodeState.Questionable, table.StateOf(IdAt(0, 1)));
        table.Failed(IdAt(0, 1));
        // Bad after two unanswered queries, and replaced by the waiting newcomer.
        Assert.Null(table.StateOf(IdAt(0, 1)));
        Assert.Equal(NodeState.Good, table.StateOf(IdAt(0, 3)));
        Assert.Equal(3, table.Count);
    }

    [Fact]
    public void A_bad_node_without_replacement_stays_until_a_newcomer_takes_its_place()
    {
        var table = new RoutingTable(Own, bucketSize: 1);
        table.Observe(IdAt(1, 1), EndPoint(9), responded: true); // Our side, so the far bucket can fill alone after a split.
        table.Observe(IdAt(0, 1), EndPoint(1), responded: true);
        table.Failed(IdAt(0, 1));
        table.Failed(IdAt(0, 1));
        Assert.Equal(NodeState.Bad, table.StateOf(IdAt(0, 1)));
        Assert.DoesNotContain(table.Closest(IdAt(0, 1), 8), n => n.Id == IdAt(0, 1));
        Assert.Equal(ObserveResult.Added, table.Observe(IdAt(0, 2), EndPoint(2), responded: true));
        Assert.Null(table.StateOf(IdAt(0, 1)));
    }

    [Fact]
    public void A_query_under_a_known_id_from_another_endpoint_does_not_keep_that_node_alive()
    {
        var time = new ManualTime();
        var table = new RoutingTable(Own, time);
        table.Observe(IdAt(0, 1), EndPoint(1), responded: true);
        time.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(ObserveResult.Ignored, table.Observe(IdAt(0, 1), EndPoint(2), responded: false));
        Assert.Equal(NodeState.Questionable, table.StateOf(IdAt(0, 1)));
        Assert.Equal(ObserveResult.Updated, table.Observe(IdAt(0, 1), EndPoint(1), responded: false));
        Assert.Equal(NodeState.Good, table.StateOf(IdAt(0, 1)));
    }

    [Fact]
    public void One_endpoint_cannot_fill_a_bucket_under_many_ids()
    {
        var table = new RoutingTable(Own);
        for (var i = 0; i < 20; i++)
        {
            table.Observe(IdAt(0, i + 1), EndPoint(1), responded: true);
        }

        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Closest_orders_by_xor_distance()
    {
        var table = new RoutingTable(Own);
        for (var i = 0; i < 6; i++)
        {
            table.Observe(IdAt(i, 1), EndPoint(i), responded: true);
        }

        var target = IdAt(3, 0);
        var closest = table.Closest(target, 3);
        Assert.Equal(IdAt(3, 1), closest[0].Id);
        Assert.Equal(closest.OrderBy(n => n.Id.Xor(target)).Select(n => n.Id), closest.Select(n => n.Id));
    }

    [Fact]
    public void Node_id_prefixes_and_random_ids_in_a_bucket()
    {
        Assert.Equal(160, Own.CommonPrefixLength(Own));
        Assert.Equal(0, Own.CommonPrefixLength(IdAt(0, 0)));
        Assert.Equal(77, Own.CommonPrefixLength(IdAt(77, 0)));
        for (var prefix = 0; prefix < 160; prefix += 13)
        {
            Assert.Equal(prefix, Own.CommonPrefixLength(Own.RandomWithPrefix(prefix)));
        }
    }
}
