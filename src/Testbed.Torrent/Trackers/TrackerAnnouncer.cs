using System.Diagnostics;
using Polly;
using Polly.Retry;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Trackers;

/// <summary>The outcome of one successful announce through <see cref="TrackerAnnouncer"/>.</summary>
/// <param name="Tracker">The tracker that answered.</param>
/// <param name="Response">Its answer.</param>
/// <param name="NextAnnounceIn">When the next regular announce is due (the tracker's interval, bounded by the options).</param>
/// <param name="MinAnnounceIn">The earliest an extra announce may go out (the tracker's min interval, if any).</param>
public sealed record TrackerAnnounceResult(Uri Tracker, AnnounceResponse Response, TimeSpan NextAnnounceIn, TimeSpan MinAnnounceIn);

/// <summary>
/// Announces to several trackers per BEP 12: tiers tried in order, trackers within a tier in a
/// shuffled order, a tracker that answers moves to the front of its tier. Each tracker is retried
/// through a Polly pipeline only for transient trouble; a `failure reason` is surfaced, not retried.
/// <see cref="RunAsync"/> keeps announcing at the tracker's interval and respects its min interval.
/// </summary>
public sealed class TrackerAnnouncer : IDisposable
{
    private readonly List<List<Uri>> _tiers;
    private readonly List<TrackerException> _invalid = [];
    private readonly ITrackerClientFactory _factory;
    private readonly TrackerClientFactory? _ownedFactory;
    private readonly TrackerClientOptions _options;
    private readonly ResiliencePipeline _pipeline;
    private readonly Dictionary<Uri, ITrackerClient> _clients = [];
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Lock _sync = new();
    private TrackerEvent _pendingEvent;

    /// <summary>Creates an announcer over tracker tiers (URLs that do not parse are reported as errors when announcing).</summary>
    public TrackerAnnouncer(IEnumerable<IEnumerable<string>> trackerTiers, TrackerClientOptions? options = null, ITrackerClientFactory? factory = null, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(trackerTiers);
        _options = options ?? new TrackerClientOptions();
        if (factory is null)
        {
            _ownedFactory = new TrackerClientFactory(_options);
            factory = _ownedFactory;
        }

        _factory = factory;
        random ??= Random.Shared;
        _tiers = [];
        foreach (var tier in trackerTiers)
        {
            var uris = new List<Uri>();
            foreach (var url in tier)
            {
                if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
                {
                    uris.Add(uri);
                }
                else
                {
                    _invalid.Add(new TrackerException(new Uri("invalid:" + Uri.EscapeDataString(url)), $"'{url}' is not a URL", isRetryable: false));
                }
            }

            // BEP 12: shuffle each tier once, then keep the order, promoting trackers that answer.
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(uris));
            if (uris.Count > 0)
            {
                _tiers.Add(uris);
            }
        }

        _pipeline = BuildPipeline(_options);
    }

    /// <summary>Creates an announcer for a torrent's trackers.</summary>
    public static TrackerAnnouncer ForTorrent(TorrentMetainfo torrent, TrackerClientOptions? options = null, ITrackerClientFactory? factory = null) =>
        new((torrent ?? throw new ArgumentNullException(nameof(torrent))).TrackerTiers, options, factory);

    /// <summary>The tiers in their current order.</summary>
    public IReadOnlyList<IReadOnlyList<Uri>> Tiers
    {
        get
        {
            lock (_sync)
            {
                return [.. _tiers.Select(t => (IReadOnlyList<Uri>)[.. t])];
            }
        }
    }

    /// <summary>The most recent successful result, if any.</summary>
    public TrackerAnnounceResult? LastResult { get; private set; }

    /// <summary>Announces once: the first tracker (in BEP 12 order) that answers wins; throws <see cref="TrackerAnnounceException"/> with every error if none does.</summary>
    public async Task<TrackerAnnounceResult> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new List<TrackerException>(_invalid);
        foreach (var tier in Tiers)
        {
            foreach (var uri in tier)
            {
                ITrackerClient client;
                try
                {
                    client = GetClient(uri);
                }
                catch (TrackerException error)
                {
                    errors.Add(error);
                    continue;
                }

                try
                {
                    var response = await _pipeline.ExecuteAsync(
                        static async (state, token) => await state.client.AnnounceAsync(state.request, token).ConfigureAwait(false),
                        (client, request),
                        cancellationToken).ConfigureAwait(false);
                    Promote(uri);
                    var result = new TrackerAnnounceResult(uri, response, NextInterval(response), MinInterval(response));
                    LastResult = result;
                    return result;
                }
                catch (TrackerException error)
                {
                    errors.Add(error);
                }
            }
        }

        throw new TrackerAnnounceException(errors);
    }

    /// <summary>Scrapes the first tracker (in BEP 12 order) that answers.</summary>
    public async Task<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken = default)
    {
        var errors = new List<TrackerException>();
        foreach (var uri in Tiers.SelectMany(t => t))
        {
            try
            {
                var client = GetClient(uri);
                return await _pipeline.ExecuteAsync(
                    static async (state, token) => await state.client.ScrapeAsync(state.infoHashes, token).ConfigureAwait(false),
                    (client, infoHashes),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (TrackerException error)
            {
                errors.Add(error);
            }
        }

        throw new TrackerAnnounceException(errors);
    }

    /// <summary>
    /// Asks <see cref="RunAsync"/> to announce soon: at once for `completed` or `stopped`, otherwise
    /// (wanting more peers) no earlier than the tracker's min interval after the last announce.
    /// </summary>
    public void RequestAnnounce(TrackerEvent trackerEvent = TrackerEvent.None)
    {
        lock (_sync)
        {
            if (trackerEvent != TrackerEvent.None)
            {
                _pendingEvent = trackerEvent;
            }
        }

        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    /// <summary>
    /// Announces `started`, then regularly at the tracker's interval (or after
    /// <see cref="TrackerClientOptions.FailureRetryInterval"/> when all trackers fail), until cancelled;
    /// then sends `stopped` once (best effort, bounded by the HTTP timeout).
    /// </summary>
    /// <param name="createRequest">Builds the request for an event from the session's current counters.</param>
    /// <param name="onResult">Receives each successful result (the peers).</param>
    /// <param name="onError">Receives each failed round (every tracker's error), if given.</param>
    /// <param name="cancellationToken">Stops the loop.</param>
    public async Task RunAsync(Func<TrackerEvent, AnnounceRequest> createRequest, Func<TrackerAnnounceResult, ValueTask> onResult, Action<TrackerAnnounceException>? onError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(createRequest);
        ArgumentNullException.ThrowIfNull(onResult);
        var nextEvent = TrackerEvent.Started;
        var announcedOnce = false;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                TimeSpan delay;
                TimeSpan minimum;
                try
                {
                    var result = await AnnounceAsync(createRequest(nextEvent), cancellationToken).ConfigureAwait(false);
                    announcedOnce = true;
                    nextEvent = TrackerEvent.None;
                    delay = result.NextAnnounceIn;
                    minimum = result.MinAnnounceIn;
                    await onResult(result).ConfigureAwait(false);
                }
                catch (TrackerAnnounceException error)
                {
                    onError?.Invoke(error);
                    delay = _options.FailureRetryInterval;
                    minimum = _options.FailureRetryInterval;
                }

                // Intervals count from the tracker's answer, so a slow announce never shortens the wait the tracker asked for.
                var answered = Stopwatch.GetTimestamp();
                nextEvent = await WaitForNextAnnounceAsync(answered, delay, minimum, nextEvent, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Leaving the swarm.
        }

        if (announcedOnce)
        {
            using var stopTimeout = new CancellationTokenSource(_options.HttpTimeout);
            try
            {
                await AnnounceAsync(createRequest(TrackerEvent.Stopped), stopTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception error) when (error is TrackerAnnounceException or OperationCanceledException)
            {
                // Best effort: the tracker forgets us after its interval anyway.
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _clients.Clear();
        _ownedFactory?.Dispose();
        _wake.Dispose();
    }

    private static ResiliencePipeline BuildPipeline(TrackerClientOptions options)
    {
        var builder = new ResiliencePipelineBuilder();
        if (options.RetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<TrackerException>(e => e.IsRetryable),
                MaxRetryAttempts = options.RetryAttempts,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            });
        }

        return builder.Build();
    }

    private async Task<TrackerEvent> WaitForNextAnnounceAsync(long started, TimeSpan delay, TimeSpan minimum, TrackerEvent carried, CancellationToken cancellationToken)
    {
        var remaining = delay - Stopwatch.GetElapsedTime(started);
        if (remaining <= TimeSpan.Zero || !await _wake.WaitAsync(remaining, cancellationToken).ConfigureAwait(false))
        {
            return TakePending(carried);
        }

        var pending = TakePending(carried);
        if (pending is TrackerEvent.Completed or TrackerEvent.Stopped)
        {
            return pending;
        }

        // An extra announce for more peers waits out the tracker's min interval.
        var earliest = minimum - Stopwatch.GetElapsedTime(started);
        remaining = delay - Stopwatch.GetElapsedTime(started);
        if (earliest > TimeSpan.Zero && remaining > TimeSpan.Zero)
        {
            await Task.Delay(earliest < remaining ? earliest : remaining, cancellationToken).ConfigureAwait(false);
        }

        return TakePending(pending);
    }

    private TrackerEvent TakePending(TrackerEvent carried)
    {
        lock (_sync)
        {
            var result = _pendingEvent != TrackerEvent.None ? _pendingEvent : carried;
            _pendingEvent = TrackerEvent.None;
            return result;
        }
    }

    private TimeSpan NextInterval(AnnounceResponse response)
    {
        var interval = response.Interval;
        if (response.MinInterval is { } min && min > interval)
        {
            interval = min;
        }

        return interval < _options.MinimumInterval ? _options.MinimumInterval
            : interval > _options.MaximumInterval ? _options.MaximumInterval
            : interval;
    }

    private TimeSpan MinInterval(AnnounceResponse response)
    {
        var min = response.MinInterval ?? TimeSpan.Zero;
        return min < _options.MinimumInterval ? _options.MinimumInterval : min > _options.MaximumInterval ? _options.MaximumInterval : min;
    }

    private ITrackerClient GetClient(Uri uri)
    {
        lock (_sync)
        {
            if (!_clients.TryGetValue(uri, out var client))
            {
                client = _factory.Create(uri);
                _clients[uri] = client;
            }

            return client;
        }
    }

    private void Promote(Uri uri)
    {
        lock (_sync)
        {
            foreach (var tier in _tiers)
            {
                var index = tier.IndexOf(uri);
                if (index > 0)
                {
                    tier.RemoveAt(index);
                    tier.Insert(0, uri);
                }
            }
        }
    }
}
