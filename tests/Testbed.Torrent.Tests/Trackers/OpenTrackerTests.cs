using Testbed.Torrent.Trackers;
using static Testbed.Torrent.Tests.Trackers.TrackerTestData;

namespace Testbed.Torrent.Tests.Trackers;

/// <summary>Our tracker client against a real opentracker on loopback, over HTTP and UDP.</summary>
public sealed class OpenTrackerTests : IAsyncLifetime
{
    private static readonly InfoHash HttpHash = InfoHash.Compute("opentracker-http"u8);
    private static readonly InfoHash UdpHash = InfoHash.Compute("opentracker-udp"u8);
    private static readonly InfoHash TierHash = InfoHash.Compute("opentracker-tiers"u8);
    private static readonly InfoHash NotListed = InfoHash.Compute("not-whitelisted"u8);

    private OpenTrackerProcess? _tracker;

    private OpenTrackerProcess Tracker => _tracker ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _tracker = await OpenTrackerProcess.StartAsync([HttpHash, UdpHash, TierHash]);

    public async Task DisposeAsync()
    {
        if (_tracker is not null)
        {
            await _tracker.DisposeAsync();
        }
    }

    [Fact]
    public async Task Http_announce_returns_the_other_peer_and_scrape_counts_them()
    {
        using var client = new HttpTrackerClient(Tracker.HttpAnnounceUri, options: FastOptions);

        await client.AnnounceAsync(Request(HttpHash, peer: 's', port: 40001, left: 0));
        var response = await client.AnnounceAsync(Request(HttpHash, peer: 'l', port: 40002, left: 500));

        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 40001), response.Peers.Select(p => p.EndPoint));
        Assert.True(response.Interval > TimeSpan.Zero);
        Assert.Equal(1, response.Seeders);
        Assert.Equal(1, response.Leechers);

        var stats = await client.ScrapeAsync([HttpHash]);
        Assert.Equal(1, stats[HttpHash].Complete);
        Assert.Equal(1, stats[HttpHash].Incomplete);
    }

    [Fact]
    public async Task Udp_announce_returns_the_other_peer_reusing_one_connection_id_and_scrape_counts_them()
    {
        using var client = new UdpTrackerClient(Tracker.UdpAnnounceUri, FastOptions with { UdpInitialTimeout = TimeSpan.FromSeconds(2) });

        await client.AnnounceAsync(Request(UdpHash, peer: 's', port: 41001, left: 0));
        var response = await client.AnnounceAsync(Request(UdpHash, peer: 'l', port: 41002, left: 500));

        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 41001), response.Peers.Select(p => p.EndPoint));
        Assert.Equal(1, response.Seeders);
        Assert.Equal(1, response.Leechers);

        var stats = await client.ScrapeAsync([UdpHash]);
        Assert.Equal(1, stats[UdpHash].Complete);
        Assert.Equal(1, client.ConnectCount);
    }

    [Fact]
    public async Task Http_stopped_removes_the_peer()
    {
        var hash = HttpHash;
        using var client = new HttpTrackerClient(Tracker.HttpAnnounceUri, options: FastOptions);
        await client.AnnounceAsync(Request(hash, peer: 'x', port: 40111));
        await client.AnnounceAsync(Request(hash, peer: 'x', port: 40111, trackerEvent: TrackerEvent.Stopped));
        var response = await client.AnnounceAsync(Request(hash, peer: 'y', port: 40112));
        Assert.DoesNotContain(new IPEndPoint(IPAddress.Loopback, 40111), response.Peers.Select(p => p.EndPoint));
    }

    [Fact]
    public async Task Torrent_not_on_the_whitelist_is_a_failure_reason_over_http()
    {
        using var client = new HttpTrackerClient(Tracker.HttpAnnounceUri, options: FastOptions);
        var error = await Assert.ThrowsAsync<TrackerFailureException>(() => client.AnnounceAsync(Request(NotListed)));
        Assert.Contains("not authorized", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Announcer_fails_over_from_a_dead_tracker_to_opentracker_and_gets_peers()
    {
        int deadPort;
        using (var probe = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            deadPort = ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
        }

        using var announcer = new TrackerAnnouncer(
            [[$"udp://127.0.0.1:{deadPort}"], [Tracker.UdpAnnounceUri.ToString(), Tracker.HttpAnnounceUri.ToString()]],
            FastOptions with { UdpInitialTimeout = TimeSpan.FromSeconds(1), UdpMaxAttempts = 2, RetryAttempts = 1 });

        await announcer.AnnounceAsync(Request(TierHash, peer: 'p', port: 42001));
        var result = await announcer.AnnounceAsync(Request(TierHash, peer: 'q', port: 42002));

        Assert.NotEqual(deadPort, result.Tracker.Port);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 42001), result.Response.Peers.Select(p => p.EndPoint));
        Assert.True(result.NextAnnounceIn >= FastOptions.MinimumInterval);
    }
}
