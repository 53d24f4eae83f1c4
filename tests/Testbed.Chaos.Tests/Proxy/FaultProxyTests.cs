using System.Diagnostics;
using static Testbed.Chaos.Tests.Proxy.ProxyFixture;

namespace Testbed.Chaos.Tests.Proxy;

/// <summary>The fault proxy over real loopback sockets: identification, each toxic, partitions and heal.</summary>
public sealed class FaultProxyTests
{
    [Fact]
    public async Task Forwards_both_ways_and_the_destination_sees_the_source_public_address()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();

        Assert.Equal(f.A.PublicAddress, ((IPEndPoint)server.RemoteEndPoint!).Address);
        await SendAsync(client, "hello");
        Assert.Equal("hello", Encoding.ASCII.GetString(await ReadAsync(server, 5, Generous)));
        await SendAsync(server, "world");
        Assert.Equal("world", Encoding.ASCII.GetString(await ReadAsync(client, 5, Generous)));

        // The proxy counts a chunk after writing it on, so the receiver can read it before the count moves: wait for it.
        var info = Assert.Single(f.Proxy.Connections);
        var deadline = Stopwatch.StartNew();
        while ((info.BytesForward, info.BytesBackward) != (5, 5) && deadline.Elapsed < Generous)
        {
            await Task.Delay(10);
            info = Assert.Single(f.Proxy.Connections);
        }

        Assert.Equal(("a", "b", f.Port), (info.Source, info.Destination, info.Port));
        Assert.Equal(5, info.BytesForward);
        Assert.Equal(5, info.BytesBackward);
    }

    [Fact]
    public async Task Half_close_is_passed_on()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();
        await SendAsync(client, "bye");
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal("bye", Encoding.ASCII.GetString(await ReadAsync(server, 100, Generous)));
        await SendAsync(server, "ok");
        Assert.Equal("ok", Encoding.ASCII.GetString(await ReadAsync(client, 2, Generous)));
    }

    [Fact]
    public async Task Latency_delays_the_named_direction()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();
        f.Links.AddToxic("a", "b", new LatencyToxic(TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(50)));

        var clock = Stopwatch.StartNew();
        await SendAsync(client, "ping");
        Assert.Equal(4, (await ReadAsync(server, 4, Generous)).Length);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(300), $"a->b took {clock.Elapsed.TotalMilliseconds} ms with 400±50 ms latency");

        // The other direction carries no toxic: well under the latency even on a loaded machine is not asserted, only the order.
        f.Links.RemoveToxics("a", "b");
        await SendAsync(client, "1");
        await SendAsync(client, "2");
        Assert.Equal("12", Encoding.ASCII.GetString(await ReadAsync(server, 2, Generous)));
    }

    [Fact]
    public async Task Latency_keeps_the_order_of_chunks()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();
        f.Links.AddToxic("a", "b", new LatencyToxic(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(50)));
        var expected = new StringBuilder();
        for (var i = 0; i < 30; i++)
        {
            var text = $"{i:00}";
            expected.Append(text);
            await SendAsync(client, text);
            await Task.Delay(5);
        }

        Assert.Equal(expected.ToString(), Encoding.ASCII.GetString(await ReadAsync(server, 60, Generous)));
    }

    [Fact]
    public async Task Bandwidth_limits_the_rate()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();
        f.Links.AddToxic("b", "a", new BandwidthToxic(32 * 1024));
        var payload = new byte[80 * 1024];
        Random.Shared.NextBytes(payload);

        var clock = Stopwatch.StartNew();
        var send = server.SendAsync(payload, SocketFlags.None);
        var received = await ReadAsync(client, payload.Length, TimeSpan.FromSeconds(60));
        await send;
        Assert.Equal(payload, received);
        // 80 KiB at 32 KiB/s is 2.5 s; allow for the first burst.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.8), $"80 KiB at 32 KiB/s arrived in {clock.Elapsed.TotalSeconds:0.00} s");
    }

    [Fact]
    public async Task Stall_stops_data_until_removed()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();
        f.Links.AddToxic("a", "b", new StallToxic(CloseAfter: null));
        await SendAsync(client, "held");
        Assert.True(await NothingArrivesAsync(server, TimeSpan.FromSeconds(1)));

        f.Links.RemoveToxics("a", "b", "stall");
        Assert.Equal("held", Encoding.ASCII.GetString(await ReadAsync(server, 4, Generous)));
    }

    [Fact]
    public async Task Stall_with_a_timeout_closes_the_connection()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();
        f.Links.AddToxic("a", "b", new StallToxic(TimeSpan.FromMilliseconds(300)));
        await SendAsync(client, "lost");

        // The server sees the end of the stream without the stalled bytes.
        Assert.Empty(await ReadAsync(server, 4, Generous));
        Assert.DoesNotContain(f.Proxy.Connections, c => c.Port == f.Port && c.BytesForward > 0);
    }

    [Fact]
    public async Task Reset_sends_a_tcp_reset_to_both_ends()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();
        f.Links.AddToxic("b", "a", new ResetToxic(TimeSpan.FromMilliseconds(100)));

        var error = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            using var cts = new CancellationTokenSource(Generous);
            while (true)
            {
                if (await client.ReceiveAsync(new byte[16], SocketFlags.None, cts.Token) == 0)
                {
                    throw new InvalidOperationException("the connection ended with FIN, not RST");
                }
            }
        });
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);

        // New connections of the link are reset too, right after they open.
        var (client2, _) = await f.ConnectAsync();
        var again = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            using var cts = new CancellationTokenSource(Generous);
            await client2.ReceiveAsync(new byte[16], SocketFlags.None, cts.Token);
        });
        Assert.Equal(SocketError.ConnectionReset, again.SocketErrorCode);
    }

    [Fact]
    public async Task Slicer_splits_data_into_small_writes()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();
        f.Links.AddToxic("a", "b", new SlicerToxic(AverageSize: 10, SizeVariation: 5, Delay: TimeSpan.FromMilliseconds(5)));
        var payload = Encoding.ASCII.GetBytes(new string('x', 1000));
        await client.SendAsync(payload, SocketFlags.None);

        var reads = 0;
        var total = 0;
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(Generous);
        while (total < payload.Length)
        {
            total += await server.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            reads++;
        }

        Assert.Equal(1000, total);
        // 1000 bytes in slices of 5..15 with 5 ms pauses: many reads (a receiver that lags may merge a few).
        Assert.True(reads >= 15, $"only {reads} reads for 1000 bytes sliced to about 10");
    }

    [Fact]
    public async Task Limit_data_closes_after_n_bytes()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();
        f.Links.AddToxic("a", "b", new LimitDataToxic(100));
        await client.SendAsync(new byte[1000], SocketFlags.None);

        var received = await ReadAsync(server, 1000, Generous);
        Assert.Equal(100, received.Length);
    }

    [Fact]
    public async Task Directional_partition_blocks_exactly_the_named_direction_and_heal_restores()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();
        f.Links.Partition(["a"], ["b"], bothWays: false);

        await SendAsync(client, "ping");
        await SendAsync(server, "pong");
        Assert.Equal("pong", Encoding.ASCII.GetString(await ReadAsync(client, 4, Generous)));
        Assert.True(await NothingArrivesAsync(server, TimeSpan.FromSeconds(1)));

        f.Links.Heal();
        Assert.Equal("ping", Encoding.ASCII.GetString(await ReadAsync(server, 4, Generous)));
    }

    [Fact]
    public async Task Two_way_partition_blocks_both_directions_and_new_connections_carry_nothing()
    {
        await using var f = new ProxyFixture();
        var (client, server) = await f.ConnectAsync();
        f.Links.Partition(["a"], ["b"], bothWays: true);

        await SendAsync(client, "ping");
        await SendAsync(server, "pong");
        Assert.True(await NothingArrivesAsync(server, TimeSpan.FromSeconds(1)));
        Assert.True(await NothingArrivesAsync(client, TimeSpan.FromMilliseconds(300)));

        var (client2, server2) = await f.ConnectAsync();
        await SendAsync(client2, "new");
        Assert.True(await NothingArrivesAsync(server2, TimeSpan.FromMilliseconds(500)));

        f.Links.Heal();
        Assert.Equal("ping", Encoding.ASCII.GetString(await ReadAsync(server, 4, Generous)));
        Assert.Equal("pong", Encoding.ASCII.GetString(await ReadAsync(client, 4, Generous)));
        Assert.Equal("new", Encoding.ASCII.GetString(await ReadAsync(server2, 3, Generous)));
    }

    [Fact]
    public async Task A_partition_between_other_nodes_leaves_this_link_alone()
    {
        await using var f = new ProxyFixture();
        f.Proxy.AddNode(f.Plan.Node("c", 3));
        var (client, server) = await f.ConnectAsync();
        f.Links.Partition(["a"], ["c"], bothWays: true);

        await SendAsync(client, "free");
        Assert.Equal("free", Encoding.ASCII.GetString(await ReadAsync(server, 4, Generous)));
    }

    [Fact]
    public async Task Unknown_sources_are_named_by_address_and_not_partitioned_with_a()
    {
        await using var f = new ProxyFixture();
        f.Links.Partition(["a"], ["b"], bothWays: true);
        var (client, server) = await f.ConnectAsync(IPAddress.Loopback);

        await SendAsync(client, "x");
        Assert.Equal("x", Encoding.ASCII.GetString(await ReadAsync(server, 1, Generous)));
        Assert.Contains(f.Proxy.Connections, c => c.Source == "127.0.0.1" && c.Destination == "b");
    }

    [Fact]
    public async Task A_dead_destination_resets_the_dialler()
    {
        await using var f = new ProxyFixture();
        var port = FreePort(f.B.PrivateAddress);
        var endPoint = f.Proxy.Expose("b", port);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Bind(new IPEndPoint(f.A.PrivateAddress, 0));
        using var cts = new CancellationTokenSource(Generous);
        var error = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            // The kernel completes the handshake before the proxy fails to dial and resets, so the reset may reach the
            // client before its connect has been reported complete (then the connect fails) or after (then the read does).
            await client.ConnectAsync(endPoint, cts.Token);
            await client.ReceiveAsync(new byte[1], SocketFlags.None, cts.Token);
        });
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
    }

    [Fact]
    public void Link_table_replaces_a_toxic_of_the_same_kind_and_bounds_the_count()
    {
        var links = new LinkTable();
        links.AddToxic("a", "b", new LatencyToxic(TimeSpan.FromSeconds(1), TimeSpan.Zero));
        links.AddToxic("a", "b", new LatencyToxic(TimeSpan.FromSeconds(2), TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(2), Assert.Single(links.Get("a", "b").Toxics).As<LatencyToxic>().Latency);
        Assert.Same(LinkState.Clear, links.Get("b", "a"));

        links.Partition(["a", "b"], ["c"], bothWays: false);
        Assert.Equal(["a->c", "b->c"], links.Blocked.Select(l => l.ToString()));
        links.Heal();
        Assert.Empty(links.Blocked);
        Assert.Single(links.Get("a", "b").Toxics);
        links.ClearToxics();
        Assert.Same(LinkState.Clear, links.Get("a", "b"));
    }

    private static int FreePort(IPAddress address)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}

internal static class ToxicCasts
{
    public static T As<T>(this LinkToxic toxic) where T : LinkToxic => Assert.IsType<T>(toxic);
}
