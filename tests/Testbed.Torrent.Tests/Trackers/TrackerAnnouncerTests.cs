using System.Collections.Concurrent;
using System.Diagnostics;
using Testbed.Torrent.Trackers;
using static Testbed.Torrent.Tests.Trackers.TrackerTestData;

namespace Testbed.Torrent.Tests.Trackers;

public sealed class TrackerAnnouncerTests
{
    private static AnnounceResponse Ok(int seconds = 60, int? minSeconds = null, int peerPort = 6881) =>
        new(TimeSpan.FromSeconds(seconds), minSeconds is { } m ? TimeSpan.FromSeconds(m) : null, [new TrackerPeer(new IPEndPoint(IPAddress.Loopback, peerPort))], 1, 0);

    [Fact]
    public async Task Tiers_are_tried_in_order_and_a_working_tracker_moves_to_the_front_of_its_tier()
    {
        var scripted = new ScriptedFactory();
        scripted.Behave("http://a1/announce", _ => throw new TrackerException(new Uri("http://a1/announce"), "down", isRetryable: false));
        scripted.Behave("http://a2/announce", _ => Ok(peerPort: 2));
        scripted.Behave("http://b1/announce", _ => Ok(peerPort: 3));
        using var announcer = new TrackerAnnouncer([["http://a1/announce", "http://a2/announce"], ["http://b1/announce"]], FastOptions, scripted, new Random(1));

        var result = await announcer.AnnounceAsync(Request());

        Assert.Equal(new Uri("http://a2/announce"), result.Tracker);
        Assert.Equal(2, result.Response.Peers[0].EndPoint.Port);
        Assert.Equal(new Uri("http://a2/announce"), announcer.Tiers[0][0]);
        Assert.Equal(0, scripted.Calls("http://b1/announce"));

        // Second round starts with the promoted tracker, so the broken one is not asked again.
        var before = scripted.Calls("http://a1/announce");
        await announcer.AnnounceAsync(Request(trackerEvent: TrackerEvent.None));
        Assert.Equal(before, scripted.Calls("http://a1/announce"));
    }

    [Fact]
    public async Task Next_tier_is_used_only_when_the_whole_tier_fails()
    {
        var scripted = new ScriptedFactory();
        scripted.Behave("http://a1/announce", u => throw new TrackerException(u, "down", isRetryable: false));
        scripted.Behave("http://a2/announce", u => throw new TrackerFailureException(u, "not registered"));
        scripted.Behave("http://b1/announce", _ => Ok(peerPort: 3));
        using var announcer = new TrackerAnnouncer([["http://a1/announce", "http://a2/announce"], ["http://b1/announce"]], FastOptions, scripted);

        var result = await announcer.AnnounceAsync(Request());

        Assert.Equal(new Uri("http://b1/announce"), result.Tracker);
        Assert.Equal(1, scripted.Calls("http://a1/announce"));
        Assert.Equal(1, scripted.Calls("http://a2/announce"));
    }

    [Fact]
    public async Task Transient_errors_are_retried_with_backoff_but_a_failure_reason_is_not()
    {
        var scripted = new ScriptedFactory();
        scripted.Behave("http://flaky/announce", u => throw new TrackerException(u, "timeout", isRetryable: true));
        scripted.Behave("http://refuses/announce", u => throw new TrackerFailureException(u, "banned client"));
        using var announcer = new TrackerAnnouncer([["http://flaky/announce"], ["http://refuses/announce"]], FastOptions with { RetryAttempts = 3 }, scripted);

        var error = await Assert.ThrowsAsync<TrackerAnnounceException>(() => announcer.AnnounceAsync(Request()));

        Assert.Equal(4, scripted.Calls("http://flaky/announce"));
        Assert.Equal(1, scripted.Calls("http://refuses/announce"));
        Assert.Equal(2, error.Errors.Count);
        Assert.Contains("banned client", error.Message, StringComparison.Ordinal);
        Assert.IsType<TrackerFailureException>(error.Errors[1]);
    }

    [Fact]
    public async Task Unsupported_or_invalid_urls_are_reported_not_thrown_at_construction()
    {
        using var announcer = new TrackerAnnouncer([["ftp://x/announce", "not a url"]], FastOptions);
        var error = await Assert.ThrowsAsync<TrackerAnnounceException>(() => announcer.AnnounceAsync(Request()));
        Assert.Contains("unsupported tracker scheme 'ftp'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'not a url' is not a URL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_announces_started_then_at_the_interval_then_stopped()
    {
        var scripted = new ScriptedFactory();
        scripted.Behave("http://t/announce", _ => Ok(seconds: 1));
        using var announcer = new TrackerAnnouncer([["http://t/announce"]], FastOptions, scripted);
        var calls = await RunUntilAsync(announcer, scripted, results => results == 3);
        Assert.Equal([TrackerEvent.Started, TrackerEvent.None, TrackerEvent.None, TrackerEvent.Stopped], calls.Select(c => c.Request.Event));
        for (var i = 1; i < 3; i++)
        {
            // Never earlier than the interval (a slow machine may make it later).
            Assert.True(calls[i].At - calls[i - 1].At >= TimeSpan.FromMilliseconds(950), $"announce {i} came {(calls[i].At - calls[i - 1].At).TotalMilliseconds} ms after the previous one");
        }
    }

    [Fact]
    public async Task Extra_announces_wait_for_min_interval_but_completed_goes_at_once()
    {
        var scripted = new ScriptedFactory();
        scripted.Behave("http://t/announce", _ => Ok(seconds: 600, minSeconds: 1));
        using var announcer = new TrackerAnnouncer([["http://t/announce"]], FastOptions, scripted);
        var calls = await RunUntilAsync(announcer, scripted, results =>
        {
            if (results == 1)
            {
                announcer.RequestAnnounce(); // wants more peers right away
            }
            else if (results == 2)
            {
                announcer.RequestAnnounce(TrackerEvent.Completed);
            }

            return results > 2;
        });
        Assert.Equal([TrackerEvent.Started, TrackerEvent.None, TrackerEvent.Completed, TrackerEvent.Stopped], calls.Select(c => c.Request.Event));
        Assert.True(calls[1].At - calls[0].At >= TimeSpan.FromMilliseconds(950), $"the extra announce came {(calls[1].At - calls[0].At).TotalMilliseconds} ms after the first, before min interval");
        Assert.True(calls[2].At - calls[1].At < TimeSpan.FromSeconds(30), "completed was held back");
    }

    [Fact]
    public async Task Run_keeps_trying_after_every_tracker_fails_and_reports_errors()
    {
        var scripted = new ScriptedFactory();
        var attempts = 0;
        scripted.Behave("http://t/announce", u => Interlocked.Increment(ref attempts) <= 2 ? throw new TrackerFailureException(u, "try later") : Ok());
        using var announcer = new TrackerAnnouncer([["http://t/announce"]], FastOptions, scripted);
        using var stop = new CancellationTokenSource();
        var errors = new ConcurrentQueue<TrackerAnnounceException>();

        await announcer.RunAsync(e => Request(trackerEvent: e), _ => { stop.Cancel(); return ValueTask.CompletedTask; }, errors.Enqueue, stop.Token).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, errors.Count);
        var calls = scripted.Requests("http://t/announce");
        Assert.Equal([TrackerEvent.Started, TrackerEvent.Started, TrackerEvent.Started, TrackerEvent.Stopped], calls.Select(c => c.Request.Event));
    }

    [Fact]
    public async Task Announce_emits_a_torrent_announce_span_with_its_attributes()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == TorrentTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var tracker = new FakeHttpTracker(Latin1("d8:intervali60e5:peers0:e"));
        using var client = new HttpTrackerClient(tracker.AnnounceUri, options: FastOptions);

        await client.AnnounceAsync(Request(trackerEvent: TrackerEvent.Started));

        var span = Assert.Single(spans, s => s.OperationName == "torrent.announce" && (string?)s.GetTagItem("tracker.url") == tracker.AnnounceUri.ToString());
        Assert.Equal(AwkwardHash.ToHex(), span.GetTagItem("torrent.infohash"));
        Assert.Equal("started", span.GetTagItem("torrent.event"));
    }

    // Runs the announcer until stopAfter, given the number of results so far, says stop; then the calls the tracker saw.
    private static async Task<List<(AnnounceRequest Request, TimeSpan At)>> RunUntilAsync(TrackerAnnouncer announcer, ScriptedFactory scripted, Func<int, bool> stopAfter)
    {
        using var stop = new CancellationTokenSource();
        var results = 0;
        var run = announcer.RunAsync(
            e => Request(trackerEvent: e),
            _ =>
            {
                if (stopAfter(Interlocked.Increment(ref results)))
                {
                    stop.Cancel();
                }

                return ValueTask.CompletedTask;
            },
            null,
            stop.Token);
        await run.WaitAsync(TimeSpan.FromSeconds(60));
        return scripted.Requests("http://t/announce");
    }

    private sealed class ScriptedFactory : ITrackerClientFactory
    {
        private readonly ConcurrentDictionary<Uri, Func<Uri, AnnounceResponse>> _behaviours = new();
        private readonly ConcurrentDictionary<Uri, ConcurrentQueue<(AnnounceRequest Request, TimeSpan At)>> _requests = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public void Behave(string url, Func<Uri, AnnounceResponse> behaviour) => _behaviours[new Uri(url)] = behaviour;

        public int Calls(string url) => _requests.TryGetValue(new Uri(url), out var queue) ? queue.Count : 0;

        public List<(AnnounceRequest Request, TimeSpan At)> Requests(string url) => [.. _requests[new Uri(url)]];

        public ITrackerClient Create(Uri announceUri) => new Client(this, announceUri);

        private sealed class Client(ScriptedFactory owner, Uri uri) : ITrackerClient
        {
            public Uri Uri => uri;

            public Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken = default)
            {
                owner._requests.GetOrAdd(uri, _ => new()).Enqueue((request, owner._clock.Elapsed));
                return Task.FromResult(owner._behaviours[uri](uri));
            }

            public Task<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken = default) =>
                throw new NotSupportedException();

            public void Dispose()
            {
            }
        }
    }
}
