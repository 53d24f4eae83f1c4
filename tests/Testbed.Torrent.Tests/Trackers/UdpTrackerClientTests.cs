using System.Buffers.Binary;
using Testbed.Torrent.Trackers;
using static Testbed.Torrent.Tests.Trackers.TrackerTestData;

namespace Testbed.Torrent.Tests.Trackers;

public sealed class UdpTrackerClientTests
{
    private const long ConnectionId = 0x1122334455667788;

    private static readonly byte[] PeerA = [127, 0, 0, 1, 0x1a, 0xe1];
    private static readonly byte[] PeerB = [10, 1, 2, 3, 0x00, 0x50];

    /// <summary>A well-behaved tracker: answers connects and announces, checking the connection id.</summary>
    private static IEnumerable<byte[]> Honest(byte[] request, int index)
    {
        if (FakeUdpTracker.Action(request) == 0)
        {
            Assert.Equal(UdpTrackerProtocol.ProtocolId, BinaryPrimitives.ReadInt64BigEndian(request));
            return [FakeUdpTracker.ConnectReply(request, ConnectionId)];
        }

        return BinaryPrimitives.ReadInt64BigEndian(request) != ConnectionId
            ? [FakeUdpTracker.ErrorReply(request, "bad connection id")]
            : [FakeUdpTracker.AnnounceReply(request, 1800, 2, 5, PeerA, PeerB)];
    }

    [Fact]
    public async Task Announce_writes_the_bep15_layout_and_reads_peers()
    {
        await using var tracker = new FakeUdpTracker(Honest);
        using var client = new UdpTrackerClient(tracker.AnnounceUri, FastOptions);
        var request = Request(port: 51413, trackerEvent: TrackerEvent.Completed) with { Uploaded = 7, Downloaded = 8, NumWant = 30 };

        var response = await client.AnnounceAsync(request);

        Assert.Equal(TimeSpan.FromSeconds(1800), response.Interval);
        Assert.Equal(5, response.Seeders);
        Assert.Equal(2, response.Leechers);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 6881), new IPEndPoint(IPAddress.Parse("10.1.2.3"), 80)], response.Peers.Select(p => p.EndPoint));

        var announce = tracker.Requests.Single(r => FakeUdpTracker.Action(r) == 1);
        Assert.Equal(98, announce.Length);
        Assert.Equal(AwkwardHash.ToArray(), announce[16..36]);
        Assert.Equal(PeerId('a'), announce[36..56]);
        Assert.Equal(8, BinaryPrimitives.ReadInt64BigEndian(announce.AsSpan(56)));
        Assert.Equal(1000, BinaryPrimitives.ReadInt64BigEndian(announce.AsSpan(64)));
        Assert.Equal(7, BinaryPrimitives.ReadInt64BigEndian(announce.AsSpan(72)));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(announce.AsSpan(80)));
        Assert.Equal(0xdeadbeef, BinaryPrimitives.ReadUInt32BigEndian(announce.AsSpan(88)));
        Assert.Equal(30, BinaryPrimitives.ReadInt32BigEndian(announce.AsSpan(92)));
        Assert.Equal(51413, BinaryPrimitives.ReadUInt16BigEndian(announce.AsSpan(96)));
    }

    [Fact]
    public async Task Connection_id_is_reused_within_its_lifetime_and_renewed_after()
    {
        // A loaded machine may make the client retransmit (300 ms timeouts here), which adds datagrams and, once the
        // connection id has expired, connects: the assertions are about when the client connects, not how many datagrams.
        await using var tracker = new FakeUdpTracker(Honest);
        using (var client = new UdpTrackerClient(tracker.AnnounceUri, FastOptions))
        {
            await client.AnnounceAsync(Request());
            await client.AnnounceAsync(Request(trackerEvent: TrackerEvent.None));
            Assert.Equal(1, client.ConnectCount);
            var actions = tracker.Requests.Select(FakeUdpTracker.Action).ToArray();
            Assert.DoesNotContain(0, actions.SkipWhile(a => a == 0));
        }

        var before = tracker.Requests.Count;
        using var expiring = new UdpTrackerClient(tracker.AnnounceUri, FastOptions with { UdpConnectionIdLifetime = TimeSpan.Zero });
        await expiring.AnnounceAsync(Request());
        await expiring.AnnounceAsync(Request());
        var later = tracker.Requests.Skip(before).Select(FakeUdpTracker.Action).ToArray();
        Assert.True(expiring.ConnectCount >= 2, $"{expiring.ConnectCount} connects for two announces with an expired id");
        Assert.True(later.Count(a => a == 1) >= 2, $"two announces expected: {string.Join(",", later)}");
        Assert.All(later.Select((a, i) => (a, i)).Where(p => p.a == 1), p => Assert.True(p.i > 0 && later[p.i - 1] == 0, $"announce datagram {p.i} was not preceded by a connect: {string.Join(",", later)}"));
    }

    [Fact]
    public async Task Lost_requests_are_retransmitted()
    {
        var announces = 0;
        await using var tracker = new FakeUdpTracker((request, index) =>
        {
            // Drop the first connect and the first announce.
            if (index == 0)
            {
                return [];
            }

            if (FakeUdpTracker.Action(request) == 1 && Interlocked.Increment(ref announces) == 1)
            {
                return [];
            }

            return Honest(request, index);
        });
        using var client = new UdpTrackerClient(tracker.AnnounceUri, FastOptions with { UdpInitialTimeout = TimeSpan.FromMilliseconds(200), UdpMaxAttempts = 5 });

        var response = await client.AnnounceAsync(Request());

        Assert.Equal(2, response.Peers.Count);
        Assert.Equal(2, tracker.CountAction(0));
        Assert.Equal(2, tracker.CountAction(1));
        var transactionIds = tracker.Requests.Select(r => BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(12))).ToList();
        Assert.Equal(transactionIds.Count, transactionIds.Distinct().Count());
    }

    [Fact]
    public async Task Silent_tracker_gives_a_retryable_error_after_the_attempts()
    {
        await using var tracker = new FakeUdpTracker((_, _) => []);
        using var client = new UdpTrackerClient(tracker.AnnounceUri, FastOptions with { UdpInitialTimeout = TimeSpan.FromMilliseconds(100), UdpMaxAttempts = 3 });

        var error = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request()));

        Assert.True(error.IsRetryable);
        Assert.Contains("no response after 3 attempt(s)", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, tracker.CountAction(0));
    }

    [Fact]
    public async Task Error_action_is_a_failure_reason()
    {
        await using var tracker = new FakeUdpTracker((request, index) =>
            FakeUdpTracker.Action(request) == 0 ? Honest(request, index) : [FakeUdpTracker.ErrorReply(request, "torrent not registered")]);
        using var client = new UdpTrackerClient(tracker.AnnounceUri, FastOptions);

        var error = await Assert.ThrowsAsync<TrackerFailureException>(() => client.AnnounceAsync(Request()));

        Assert.Equal("torrent not registered", error.Reason);
    }

    [Fact]
    public async Task Datagrams_with_another_transaction_id_are_ignored()
    {
        await using var tracker = new FakeUdpTracker((request, index) =>
        {
            var replies = Honest(request, index).ToList();
            var stray = (byte[])replies[0].Clone();
            stray[7] ^= 0xff;
            stray[8] ^= 0xff;
            return [stray, .. replies];
        });
        using var client = new UdpTrackerClient(tracker.AnnounceUri, FastOptions);

        var response = await client.AnnounceAsync(Request());

        Assert.Equal(2, response.Peers.Count);
        Assert.Equal(1, tracker.CountAction(0));
    }

    [Theory]
    [InlineData(5, "not a multiple of 6")]
    [InlineData(-1, "shorter than 20")]
    public async Task Malformed_announce_responses_are_clear_errors(int peerBytes, string problem)
    {
        await using var tracker = new FakeUdpTracker((request, index) =>
        {
            if (FakeUdpTracker.Action(request) == 0)
            {
                return Honest(request, index);
            }

            var reply = FakeUdpTracker.AnnounceReply(request, 60, 0, 0, new byte[Math.Max(peerBytes, 0)]);
            return [peerBytes < 0 ? reply[..12] : reply];
        });
        using var client = new UdpTrackerClient(tracker.AnnounceUri, FastOptions);

        var error = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request()));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.False(error.IsRetryable);
    }

    [Fact]
    public async Task Scrape_maps_counts_to_hashes_in_order_and_batches_large_requests()
    {
        var hashes = Enumerable.Range(0, 100).Select(i => InfoHash.Compute([(byte)i])).ToList();
        await using var tracker = new FakeUdpTracker((request, index) =>
        {
            if (FakeUdpTracker.Action(request) == 0)
            {
                return Honest(request, index);
            }

            var count = (request.Length - 16) / 20;
            var reply = new byte[8 + (12 * count)];
            BinaryPrimitives.WriteInt32BigEndian(reply, 2);
            request.AsSpan(12, 4).CopyTo(reply.AsSpan(4));
            for (var i = 0; i < count; i++)
            {
                // Seeders = first byte of the hash, so the mapping can be checked.
                BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(8 + (12 * i)), request[16 + (20 * i)]);
                BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(12 + (12 * i)), 1);
                BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(16 + (12 * i)), 2);
            }

            return [reply];
        });
        using var client = new UdpTrackerClient(tracker.AnnounceUri, FastOptions);

        var stats = await client.ScrapeAsync(hashes);

        Assert.Equal(100, stats.Count);
        foreach (var hash in hashes)
        {
            Assert.Equal(new ScrapeStats(hash.ToArray()[0], 1, 2), stats[hash]);
        }

        Assert.Equal(2, tracker.CountAction(2));
    }

    [Fact]
    public async Task Closed_port_fails_fast_as_retryable()
    {
        int port;
        using (var probe = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            port = ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
        }

        using var client = new UdpTrackerClient(new Uri($"udp://127.0.0.1:{port}"), FastOptions with { UdpInitialTimeout = TimeSpan.FromSeconds(5) });
        var error = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request()));
        Assert.True(error.IsRetryable);
    }
}
