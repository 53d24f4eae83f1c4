using System.Diagnostics;
using Testbed.Torrent.Dht;
using Testbed.Torrent.Dht.Krpc;
using Testbed.Torrent.Dht.Storage;

namespace Testbed.Torrent.Tests.Dht;

/// <summary>Live nodes on loopback: a network of 16, restarts with a state file, the bounds against abuse.</summary>
public sealed class DhtNodeTests
{
    [Fact]
    public async Task Sixteen_nodes_bootstrap_through_one_fill_their_tables_and_find_an_announced_peer()
    {
        var infoHash = InfoHash.Compute("dht network test"u8);
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TorrentTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == "dht.lookup" && (string?)activity.GetTagItem("torrent.infohash") == infoHash.ToHex())
                {
                    lock (spans)
                    {
                        spans.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using var network = new DhtTestNetwork();
        var first = await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(1, 1)));
        for (var i = 2; i <= 16; i++)
        {
            await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(1, i)) { Bootstrap = [first.LocalEndPoint], PeerName = $"node-{i}" });
        }

        // A second round, as the periodic refresh would do: early nodes meet those that came after them.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Task.WhenAll(network.Nodes.Select(n => n.BootstrapAsync([], timeout.Token)));
        var sizes = network.Nodes.Select(n => n.RoutingTableCount).ToList();
        Assert.All(sizes, size => Assert.InRange(size, 8, 15));
        // More than k on average: the bucket holding each node's own id split (without splits every table stops at 8).
        Assert.True(sizes.Average() > 10, string.Join(", ", sizes));

        var announcer = network.Nodes[4];
        var accepted = await announcer.AnnounceAsync(infoHash, 7001, timeout.Token);
        Assert.InRange(accepted, 1, 8);
        var seeker = network.Nodes[12];
        var found = await seeker.GetPeersAsync(infoHash, timeout.Token);
        Assert.Contains(new IPEndPoint(announcer.LocalEndPoint.Address, 7001), found);
        Assert.Equal(accepted, network.Nodes.Sum(n => n.Statistics.AnnouncesStored));

        lock (spans)
        {
            var lookup = Assert.Single(spans, s => (string?)s.GetTagItem("testbed.peer") == "node-13");
            Assert.True((int)lookup.GetTagItem("dht.nodes_queried")! >= 1);
            Assert.True((int)lookup.GetTagItem("dht.peers_found")! >= 1);
            Assert.Contains(spans, s => (string?)s.GetTagItem("testbed.peer") == "node-5" && (string?)s.GetTagItem("dht.kind") == "announce");
        }
    }

    [Fact]
    public async Task A_restarted_node_keeps_its_id_and_its_nodes_and_a_torn_state_file_starts_fresh()
    {
        var directory = Directory.CreateTempSubdirectory("dht-state-");
        try
        {
            var statePath = Path.Combine(directory.FullName, "dht.state");
            await using var network = new DhtTestNetwork();
            var first = await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(2, 1)));
            for (var i = 2; i <= 5; i++)
            {
                await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(2, i)) { Bootstrap = [first.LocalEndPoint] });
            }

            var options = new DhtNodeOptions(DhtTestNetwork.Loopback(2, 9)) { Bootstrap = [first.LocalEndPoint], StatePath = statePath };
            NodeId id;
            await using (var node = await DhtNode.StartAsync(options))
            {
                id = node.Id;
                Assert.True(node.RoutingTableCount >= 4);
            }

            Assert.True(File.Exists(statePath));
            Assert.Empty(directory.GetFiles(".*")); // The temporary file was renamed, not left behind.
            await using (var restarted = await DhtNode.StartAsync(options with { Bootstrap = [] }))
            {
                Assert.Equal(id, restarted.Id);
                Assert.True(restarted.RoutingTableCount >= 4, $"{restarted.RoutingTableCount} nodes after the restart");
            }

            var content = await File.ReadAllBytesAsync(statePath);
            await File.WriteAllBytesAsync(statePath, content[..(content.Length / 2)]);
            var log = new List<string>();
            await using (var fresh = await DhtNode.StartAsync(options with { Bootstrap = [], Log = log.Add }))
            {
                Assert.NotEqual(id, fresh.Id);
                Assert.Equal(0, fresh.RoutingTableCount);
                Assert.Contains(log, line => line.Contains("unreadable", StringComparison.Ordinal) && line.Contains("starting fresh", StringComparison.Ordinal));
            }

            await File.WriteAllTextAsync(statePath, "not bencode at all");
            log.Clear();
            await using (var garbage = await DhtNode.StartAsync(options with { Bootstrap = [], Log = log.Add }))
            {
                Assert.Single(log);
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_node_that_finds_none_of_its_saved_nodes_keeps_them_in_the_file()
    {
        var directory = Directory.CreateTempSubdirectory("dht-state-");
        try
        {
            var statePath = Path.Combine(directory.FullName, "dht.state");
            using var away = new RawKrpcClient(IPAddress.Parse("127.0.2.20")); // Bound, silent: a saved node that is not answering now.
            var saved = new DhtState(NodeId.Random(), [new NodeInfo(NodeId.Random(), away.LocalEndPoint)]).Encode();
            await File.WriteAllBytesAsync(statePath, saved);
            await using (var node = await DhtNode.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(2, 21)) { StatePath = statePath, QueryTimeout = TimeSpan.FromMilliseconds(300) }))
            {
                Assert.Equal(0, node.RoutingTableCount);
            }

            Assert.Equal(saved, await File.ReadAllBytesAsync(statePath));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task An_unverified_querier_never_gets_more_than_three_times_its_query_until_it_answers_a_ping()
    {
        await using var network = new DhtTestNetwork();
        var node = await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(3, 1)));
        var infoHash = InfoHash.Compute("amplification"u8);
        using var announcer = new RawKrpcClient(IPAddress.Parse("127.0.3.2"));
        var someone = NodeId.Random();
        // 60 peers of one info hash (one address, many ports), each announced with a valid token.
        for (var port = 1000; port < 1060; port++)
        {
            var (reply, _) = await announcer.AskAsync(new GetPeersQuery([1, (byte)port], someone, infoHash), node.LocalEndPoint);
            var token = Assert.IsType<KrpcResponse>(reply).Token!;
            var (stored, _) = await announcer.AskAsync(new AnnouncePeerQuery([2, (byte)port], someone, infoHash, port, token, ImpliedPort: false), node.LocalEndPoint);
            Assert.IsType<KrpcResponse>(stored);
        }

        using var stranger = new RawKrpcClient(IPAddress.Parse("127.0.3.3"));
        var query = new GetPeersQuery([7], NodeId.Random(), infoHash);
        var querySize = KrpcCodec.Encode(query).Length;
        var (bounded, size) = await stranger.AskAsync(query, node.LocalEndPoint);
        var values = Assert.IsType<KrpcResponse>(bounded).Values!;
        Assert.InRange(size, 1, querySize * 3);
        Assert.InRange(values.Count, 1, 49);
        Assert.True(node.Statistics.RepliesTrimmed >= 1);

        // The node pings a stranger it could add; answering proves the address, and the next answer is whole.
        var ping = Assert.IsType<PingQuery>(await stranger.NextQueryAsync(node.LocalEndPoint));
        await stranger.SendAsync(new KrpcResponse(ping.TransactionId, NodeId.Random()), node.LocalEndPoint);
        await WaitUntilAsync(() => node.RoutingTableCount >= 1);
        var (whole, wholeSize) = await stranger.AskAsync(query with { TransactionId = [8] }, node.LocalEndPoint);
        Assert.Equal(50, Assert.IsType<KrpcResponse>(whole).Values!.Count);
        Assert.True(wholeSize > querySize * 3);
    }

    [Fact]
    public async Task A_flood_from_one_address_is_dropped_beyond_its_burst_and_others_are_still_answered()
    {
        await using var network = new DhtTestNetwork();
        var node = await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(4, 1)) { PerAddressQueryLimit = new(Rate: 10, Burst: 20) });
        using var flooder = new RawKrpcClient(IPAddress.Parse("127.0.4.2"));
        var sender = NodeId.Random();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 500; i++)
        {
            await flooder.SendAsync(new PingQuery([(byte)(i >> 8), (byte)i], sender), node.LocalEndPoint);
        }

        await WaitUntilAsync(() => node.Statistics.QueriesAnswered + node.Statistics.QueriesDropped >= 500);
        var seconds = watch.Elapsed.TotalSeconds;
        var replies = (await flooder.DrainAsync(TimeSpan.FromMilliseconds(300))).Count(d => KrpcCodec.TryDecode(d, out var m, out _) && m is KrpcResponse);
        // The burst, plus what 10/s refilled while the flood lasted (however slow a loaded machine made it).
        Assert.InRange(replies, 20, 20 + (int)Math.Ceiling(seconds * 10) + 1);
        Assert.Equal(500 - replies, node.Statistics.QueriesDropped);
        using var other = new RawKrpcClient(IPAddress.Parse("127.0.4.3"));
        var (reply, _) = await other.AskAsync(new PingQuery([1], NodeId.Random()), node.LocalEndPoint);
        Assert.IsType<KrpcResponse>(reply);
    }

    [Fact]
    public async Task Bad_arguments_get_error_203_unknown_methods_204_and_a_bad_token_203()
    {
        await using var network = new DhtTestNetwork();
        var node = await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(5, 1)));
        using var client = new RawKrpcClient(IPAddress.Parse("127.0.5.2"));
        await client.SendAsync("d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe"u8.ToArray(), node.LocalEndPoint);
        var error = await NextErrorAsync(client, node);
        Assert.Equal((203, "xy"), (error.Code, System.Text.Encoding.ASCII.GetString(error.TransactionId)));
        await client.SendAsync("d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:zz1:y1:qe"u8.ToArray(), node.LocalEndPoint);
        Assert.Equal(204, (await NextErrorAsync(client, node)).Code);
        var (reply, _) = await client.AskAsync(new AnnouncePeerQuery([3], NodeId.Random(), InfoHash.Compute("x"u8), 80, [1, 2, 3, 4, 5, 6, 7, 8], ImpliedPort: false), node.LocalEndPoint);
        Assert.Equal(203, Assert.IsType<KrpcError>(reply).Code);
        Assert.Equal(0, node.StoredInfoHashCount);
    }

    [Fact]
    public async Task A_query_is_retried_once_and_matched_only_by_its_transaction_id_from_the_endpoint_it_went_to()
    {
        await using var network = new DhtTestNetwork();
        var node = await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(5, 10)) { QueryTimeout = TimeSpan.FromMilliseconds(700) });
        using var target = new RawKrpcClient(IPAddress.Parse("127.0.5.11"));
        using var impostor = new RawKrpcClient(IPAddress.Parse("127.0.5.12"));
        var targetId = NodeId.Random();
        var ping = node.PingAsync(target.LocalEndPoint);
        var first = Assert.IsType<PingQuery>(await target.NextQueryAsync(node.LocalEndPoint));
        Assert.Equal(node.Id, first.Sender);
        // The right transaction id from the wrong endpoint, and a wrong id from the right one: neither answers the query.
        await impostor.SendAsync(new KrpcResponse(first.TransactionId, NodeId.Random()), node.LocalEndPoint);
        await target.SendAsync(new KrpcResponse([.. first.TransactionId, 0], NodeId.Random()), node.LocalEndPoint);
        var retry = Assert.IsType<PingQuery>(await target.NextQueryAsync(node.LocalEndPoint));
        Assert.False(ping.IsCompleted);
        await target.SendAsync(new KrpcResponse(retry.TransactionId, targetId), node.LocalEndPoint);
        Assert.Equal(targetId, await ping.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(node.RoutingTable.Contains(targetId));
        Assert.True(node.Statistics.DatagramsRefused >= 2);

        // Nobody answers twice: null after two timeouts, and exactly two datagrams went out.
        using var silent = new RawKrpcClient(IPAddress.Parse("127.0.5.13"));
        var watch = Stopwatch.StartNew();
        Assert.Null(await node.PingAsync(silent.LocalEndPoint).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(1300), TimeSpan.FromSeconds(10));
        Assert.Equal(2, (await silent.DrainAsync(TimeSpan.FromMilliseconds(300))).Count);
    }

    [Fact]
    public async Task An_implied_port_announce_stores_the_source_port()
    {
        await using var network = new DhtTestNetwork();
        var node = await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(5, 20)));
        var infoHash = InfoHash.Compute("implied"u8);
        using var announcer = new RawKrpcClient(IPAddress.Parse("127.0.5.21"));
        var (reply, _) = await announcer.AskAsync(new GetPeersQuery([1], NodeId.Random(), infoHash), node.LocalEndPoint);
        var token = Assert.IsType<KrpcResponse>(reply).Token!;
        var (stored, _) = await announcer.AskAsync(new AnnouncePeerQuery([2], NodeId.Random(), infoHash, 0, token, ImpliedPort: true), node.LocalEndPoint);
        Assert.IsType<KrpcResponse>(stored);
        using var seeker = new RawKrpcClient(IPAddress.Parse("127.0.5.22"));
        var (found, _) = await seeker.AskAsync(new GetPeersQuery([3], NodeId.Random(), infoHash), node.LocalEndPoint);
        Assert.Equal([announcer.LocalEndPoint], Assert.IsType<KrpcResponse>(found).Values!);
    }

    [Fact]
    public async Task Thousands_of_random_truncated_and_bit_flipped_datagrams_get_no_reply_and_the_node_still_answers()
    {
        await using var network = new DhtTestNetwork();
        var node = await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(6, 1)));
        using var fuzzer = new RawKrpcClient(IPAddress.Parse("127.0.6.2"));
        var random = new Random(20_26);
        var sender = NodeId.Random();
        byte[][] valid =
        [
            KrpcCodec.Encode(new PingQuery([1, 2], sender)),
            KrpcCodec.Encode(new FindNodeQuery([3, 4], sender, NodeId.Random())),
            KrpcCodec.Encode(new GetPeersQuery([5, 6], sender, InfoHash.Compute("f"u8))),
            KrpcCodec.Encode(new AnnouncePeerQuery([7, 8], sender, InfoHash.Compute("f"u8), 6881, [1, 2, 3, 4], ImpliedPort: false)),
            KrpcCodec.Encode(new KrpcResponse([9, 9], sender, [new NodeInfo(sender, new IPEndPoint(IPAddress.Loopback, 1))], [new IPEndPoint(IPAddress.Loopback, 2)], [1])),
        ];
        var sent = 0;
        var answerable = 0;
        for (var i = 0; i < 5000; i++)
        {
            byte[] datagram;
            switch (i % 3)
            {
                case 0:
                    datagram = new byte[random.Next(0, 1600)];
                    random.NextBytes(datagram);
                    break;
                case 1:
                    var whole = valid[random.Next(valid.Length)];
                    datagram = whole[..random.Next(0, whole.Length)];
                    break;
                default:
                    datagram = [.. valid[random.Next(valid.Length)]];
                    for (var flips = random.Next(1, 4); flips > 0; flips--)
                    {
                        datagram[random.Next(datagram.Length)] ^= (byte)(1 << random.Next(8));
                    }

                    break;
            }

            // Only what the codec refuses outright is sent: a flip can leave a valid query (which deserves its answer).
            if (KrpcCodec.TryDecode(datagram, out _, out var refusal) || refusal.ReplyCode is not null)
            {
                answerable++;
                continue;
            }

            await fuzzer.SendAsync(datagram, node.LocalEndPoint);
            sent++;
            if (sent % 100 == 0)
            {
                // Paced by the node: the kernel would drop what a busy node has not read yet, and those would prove nothing.
                var target = sent - 100;
                await WaitUntilAsync(() => node.Statistics.DatagramsRefused >= target, TimeSpan.FromSeconds(5));
            }
        }

        Assert.True(sent > 4000, $"{sent} sent, {answerable} left out as answerable");
        Assert.Empty(await fuzzer.DrainAsync(TimeSpan.FromSeconds(1)));
        Assert.True(node.Statistics.DatagramsRefused >= sent * 95 / 100, $"{node.Statistics.DatagramsRefused} refused of {sent}");
        var (reply, _) = await fuzzer.AskAsync(new PingQuery([42], NodeId.Random()), node.LocalEndPoint);
        Assert.Equal(node.Id, Assert.IsType<KrpcResponse>(reply).Sender);
    }

    /// <summary>Polls <paramref name="condition"/> every 20 ms; returns as soon as it holds, or after the bound (10 s) without failing.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? bound = null)
    {
        var end = DateTime.UtcNow + (bound ?? TimeSpan.FromSeconds(10));
        while (!condition() && DateTime.UtcNow < end)
        {
            await Task.Delay(20);
        }
    }

    private static async Task<KrpcError> NextErrorAsync(RawKrpcClient client, DhtNode node)
    {
        var datagram = await client.ReceiveAsync(TimeSpan.FromSeconds(3), node.LocalEndPoint);
        Assert.NotNull(datagram);
        Assert.True(KrpcCodec.TryDecode(datagram, out var message, out _));
        return Assert.IsType<KrpcError>(message);
    }
}
