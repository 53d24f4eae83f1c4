using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Trackers;
using static Testbed.Torrent.Tests.Trackers.TrackerTestData;

namespace Testbed.Torrent.Tests.Trackers;

public sealed class HttpTrackerClientTests
{
    private static readonly byte[] CompactOk =
    [
        .. Latin1("d8:completei3e10:incompletei4e8:intervali900e12:min intervali60e5:peers12:"),
        127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 80, (byte)'e',
    ];

    private static Dictionary<string, byte[]> Query(string target)
    {
        var result = new Dictionary<string, byte[]>();
        foreach (var pair in target[(target.IndexOf('?', StringComparison.Ordinal) + 1)..].Split('&'))
        {
            var parts = pair.Split('=', 2);
            result[parts[0]] = PercentEncoding.Decode(parts[1]);
        }

        return result;
    }

    [Fact]
    public async Task Announce_percent_encodes_binary_info_hash_and_peer_id_byte_for_byte()
    {
        await using var tracker = new FakeHttpTracker(CompactOk);
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions);

        await client.AnnounceAsync(Request(port: 51413));

        var target = Assert.Single(tracker.Targets);
        Assert.StartsWith("/announce?info_hash=%20%25%26%2B%00%FFA~-._%80%3D%3F%2F%23%01%02%03%04&", target, StringComparison.Ordinal);
        var query = Query(target);
        Assert.Equal(AwkwardHash.ToArray(), query["info_hash"]);
        Assert.Equal(PeerId('a'), query["peer_id"]);
        Assert.Equal("51413", System.Text.Encoding.ASCII.GetString(query["port"]));
        Assert.Equal("started", System.Text.Encoding.ASCII.GetString(query["event"]));
        Assert.Equal("1", System.Text.Encoding.ASCII.GetString(query["compact"]));
        Assert.Equal("1000", System.Text.Encoding.ASCII.GetString(query["left"]));
    }

    [Fact]
    public void Announce_url_keeps_an_existing_query()
    {
        using var client = new HttpTrackerClient(new Uri("http://127.0.0.1:1/announce.php?passkey=abc"));
        Assert.StartsWith("http://127.0.0.1:1/announce.php?passkey=abc&info_hash=", client.BuildAnnounceUri(Request()).OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_compact_peers_counts_and_intervals()
    {
        await using var tracker = new FakeHttpTracker(CompactOk);
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions);

        var response = await client.AnnounceAsync(Request());

        Assert.Equal(TimeSpan.FromSeconds(900), response.Interval);
        Assert.Equal(TimeSpan.FromSeconds(60), response.MinInterval);
        Assert.Equal(3, response.Seeders);
        Assert.Equal(4, response.Leechers);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("127.0.0.1"), 6881), new IPEndPoint(IPAddress.Parse("10.0.0.2"), 80)], response.Peers.Select(p => p.EndPoint));
    }

    [Fact]
    public async Task Reads_dictionary_peers_with_ids_and_ipv6_peers6()
    {
        var body = new BencodeDictionary
        {
            ["interval"] = 60L,
            ["peers"] = new BencodeList
            {
                new BencodeDictionary { ["ip"] = "192.168.1.5", ["port"] = 7000L, ["peer id"] = PeerId('z') },
                new BencodeDictionary { ["ip"] = "::1", ["port"] = 7001L },
                new BencodeDictionary { ["ip"] = "tracker.example", ["port"] = 7002L },
            },
            ["peers6"] = new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x1b, 0x59 },
        }.Encode();
        await using var tracker = new FakeHttpTracker(body);
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions);

        var response = await client.AnnounceAsync(Request());

        Assert.Equal(3, response.Peers.Count);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.168.1.5"), 7000), response.Peers[0].EndPoint);
        Assert.Equal(PeerId('z'), response.Peers[0].PeerId);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 7001), response.Peers[1].EndPoint);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 7001), response.Peers[2].EndPoint);
        Assert.Null(response.MinInterval);
    }

    [Fact]
    public async Task Failure_reason_is_surfaced_as_a_non_retryable_failure()
    {
        await using var tracker = new FakeHttpTracker(Latin1("d14:failure reason15:torrent unknowne"));
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions);

        var error = await Assert.ThrowsAsync<TrackerFailureException>(() => client.AnnounceAsync(Request()));

        Assert.Equal("torrent unknown", error.Reason);
        Assert.False(error.IsRetryable);
    }

    [Fact]
    public async Task Failure_reason_with_an_error_status_is_still_the_failure_reason()
    {
        await using var tracker = new FakeHttpTracker(_ => (403, Latin1("d14:failure reason6:bannede")));
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions);
        Assert.Equal("banned", (await Assert.ThrowsAsync<TrackerFailureException>(() => client.AnnounceAsync(Request()))).Reason);
    }

    [Theory]
    [InlineData("<html>not bencode</html>", "not a bencoded dictionary")]
    [InlineData("d8:intervali60e5:peers5:abcdee", "not a multiple of 6")]
    [InlineData("d5:peers0:e", "no 'interval'")]
    [InlineData("d8:intervali-5e5:peers0:e", "negative interval")]
    [InlineData("d8:intervali60e5:peersi3ee", "neither a string nor a list")]
    [InlineData("d8:intervali60e5:peersld2:ip9:127.0.0.14:porti70000eeee", "port 70000 is out of range")]
    [InlineData("d8:intervali60e5:peersli1eee", "not a dictionary")]
    [InlineData("d8:intervali03ee", "leading zero")]
    public async Task Malformed_responses_are_clear_non_retryable_errors(string body, string problem)
    {
        await using var tracker = new FakeHttpTracker(Latin1(body));
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions);

        var error = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request()));

        Assert.Contains("malformed response", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.False(error.IsRetryable);
    }

    [Fact]
    public async Task Oversized_response_is_refused()
    {
        var body = Latin1("d8:intervali60e5:peers" + 600_000 + ":" + new string('x', 600_000) + "e");
        await using var tracker = new FakeHttpTracker(body);
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions with { MaxResponseBytes = 100_000 });

        var error = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request()));

        Assert.Contains("exceeds the limit of 100000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Peer_count_is_bounded()
    {
        var peers = string.Concat(Enumerable.Repeat("\u007f\u0000\u0000\u0001\u001a\u00e1", 500));
        await using var tracker = new FakeHttpTracker(Latin1($"d8:intervali60e5:peers{peers.Length}:{peers}e"));
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions with { MaxPeers = 50 });
        Assert.Equal(50, (await client.AnnounceAsync(Request())).Peers.Count);
    }

    [Fact]
    public async Task Server_errors_are_retryable_and_client_errors_are_not()
    {
        await using var broken = new FakeHttpTracker(_ => (503, Latin1("busy")));
        using var brokenClient = new HttpTrackerClient(broken.AnnounceUri, options: FastOptions);
        var error = await Assert.ThrowsAsync<TrackerException>(() => brokenClient.AnnounceAsync(Request()));
        Assert.True(error.IsRetryable);
        Assert.Contains("HTTP 503", error.Message, StringComparison.Ordinal);

        await using var missing = new FakeHttpTracker(_ => (404, Latin1("no")));
        using var missingClient = new HttpTrackerClient(missing.AnnounceUri, options: FastOptions);
        Assert.False((await Assert.ThrowsAsync<TrackerException>(() => missingClient.AnnounceAsync(Request()))).IsRetryable);
    }

    [Fact]
    public async Task Unreachable_tracker_is_a_retryable_error()
    {
        var port = FreeTcpPort();
        using var client = new HttpTrackerClient(new Uri($"http://127.0.0.1:{port}/announce"), options: FastOptions);
        Assert.True((await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request()))).IsRetryable);
    }

    [Fact]
    public async Task Slow_tracker_times_out_as_a_retryable_error()
    {
        using var release = new ManualResetEventSlim();
        await using var tracker = new FakeHttpTracker(_ =>
        {
            release.Wait(TimeSpan.FromSeconds(30));
            return (200, CompactOk);
        });
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions with { HttpTimeout = TimeSpan.FromMilliseconds(300) });

        var error = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request()));
        release.Set();

        Assert.True(error.IsRetryable);
        Assert.Contains("no response within 0.3 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_turned_into_a_tracker_error()
    {
        using var release = new ManualResetEventSlim();
        await using var tracker = new FakeHttpTracker(_ =>
        {
            release.Wait(TimeSpan.FromSeconds(30));
            return (200, CompactOk);
        });
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.AnnounceAsync(Request(), cancel.Token));
        release.Set();
    }

    [Fact]
    public async Task Tracker_id_is_sent_back_on_later_announces()
    {
        await using var tracker = new FakeHttpTracker(Latin1("d8:intervali60e5:peers0:10:tracker id3:T&1e"));
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions);
        await client.AnnounceAsync(Request());
        await client.AnnounceAsync(Request(trackerEvent: TrackerEvent.None));
        Assert.DoesNotContain("trackerid", tracker.Targets[0], StringComparison.Ordinal);
        Assert.Contains("&trackerid=T%261", tracker.Targets[1], StringComparison.Ordinal);
        Assert.DoesNotContain("event=", tracker.Targets[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://t:1/announce", "http://t:1/scrape")]
    [InlineData("http://t:1/x/announce.php?k=1", "http://t:1/x/scrape.php?k=1")]
    [InlineData("http://t:1/a", null)]
    [InlineData("http://t:1/announce/x", null)]
    public void Scrape_url_follows_bep48(string announce, string? scrape)
    {
        using var client = new HttpTrackerClient(new Uri(announce));
        Assert.Equal(scrape, client.ScrapeUri?.ToString());
    }

    [Fact]
    public async Task Scrape_reads_counts_per_info_hash()
    {
        var other = InfoHash.Compute([1]);
        var body = new BencodeDictionary
        {
            ["files"] = new BencodeDictionary
            {
                { new BencodeString(AwkwardHash.ToArray()), new BencodeDictionary { ["complete"] = 5L, ["downloaded"] = 9L, ["incomplete"] = 2L } },
            },
        }.Encode();
        await using var tracker = new FakeHttpTracker(body);
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions);

        var stats = await client.ScrapeAsync([AwkwardHash, other]);

        Assert.Equal(new ScrapeStats(5, 9, 2), stats[AwkwardHash]);
        Assert.False(stats.ContainsKey(other));
        var target = Assert.Single(tracker.Targets);
        Assert.StartsWith("/scrape?info_hash=%20%25", target, StringComparison.Ordinal);
        Assert.Contains("&info_hash=" + other.ToUrlEncoded(), target, StringComparison.Ordinal);
    }

    // opentracker answers HTTP/1.1 without "Connection: close" and closes a moment later; SocketsHttpHandler pools the
    // connection despite our request's "Connection: close", so a reused one carried the next request into that close and
    // was reset (the OpenTrackerTests flake). Every request must get a connection of its own.
    [Fact]
    public async Task Each_request_has_its_own_connection_when_the_tracker_closes_late_without_saying_so()
    {
        var scrape = new BencodeDictionary { ["files"] = new BencodeDictionary() }.Encode();
        await using var tracker = new FakeHttpTracker(target => (200, target.StartsWith("/scrape", StringComparison.Ordinal) ? scrape : CompactOk))
        {
            CloseLateWithoutSayingSo = TimeSpan.FromMilliseconds(500),
        };
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions);

        await client.AnnounceAsync(Request(peer: 's'));
        await client.AnnounceAsync(Request(peer: 'l'));
        await client.ScrapeAsync([AwkwardHash]);

        Assert.Equal(3, tracker.Targets.Count);
        Assert.Equal(3, tracker.Connections);
        Assert.Equal(0, tracker.RequestsOnAnsweredConnections);
    }

    [Fact]
    public async Task Clients_from_the_factory_share_no_connection_either()
    {
        await using var tracker = new FakeHttpTracker(CompactOk) { CloseLateWithoutSayingSo = TimeSpan.FromMilliseconds(500) };
        using var factory = new TrackerClientFactory(FastOptions);
        using var first = factory.Create(tracker.AnnounceUri);
        using var second = factory.Create(tracker.AnnounceUri);

        await first.AnnounceAsync(Request(peer: 's'));
        await second.AnnounceAsync(Request(peer: 'l'));
        await first.AnnounceAsync(Request(peer: 's', trackerEvent: TrackerEvent.Stopped));

        Assert.Equal(3, tracker.Targets.Count);
        Assert.Equal(3, tracker.Connections);
        Assert.Equal(0, tracker.RequestsOnAnsweredConnections);
    }

    internal static int FreeTcpPort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
