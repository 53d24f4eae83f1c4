using System.Collections.Concurrent;
using Testbed.Chaos.Checking;
using Testbed.Contracts.Peers;

namespace Testbed.Chaos.Execution;

/// <summary>
/// Polls every peer's /status (and its process state from the control API) into the run's history, reads each peer's new
/// block-log entries (a new process is read from its first entry: what it loaded from its own store), detects reorgs (a new
/// tip whose predecessor tip left the main chain), and keeps the proxy's mirrors in step with the peers' ports.
/// </summary>
internal sealed class HistoryRecorder(ScenarioEnvironment environment, IReadOnlyList<string> peers, RunHistory history)
{
    private readonly ConcurrentDictionary<string, (string Tip, long Height)> _lastTip = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PeerStatus> _lastStatus = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Uri> _urls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LogCursor> _cursors = new(StringComparer.Ordinal);
    private int _polls;

    /// <summary>The last /status of each peer that answered.</summary>
    public IReadOnlyDictionary<string, PeerStatus> LastStatus => _lastStatus;

    /// <summary>The HTTP URL of a peer (known after the first poll).</summary>
    public Uri Url(string peer) => _urls.TryGetValue(peer, out var url) ? url : throw new ChaosStepException($"no HTTP endpoint known for {peer}");

    /// <summary>Polls until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await PollOnceAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(environment.PollInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or ChaosStepException or System.Text.Json.JsonException or TaskCanceledException)
            {
                // The control API itself hiccuped; the next poll records again.
                await Task.Delay(environment.PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// One observation of every peer (one poll number for all), with their new block-log entries; returns the observations.
    /// A poll (<see cref="TelemetryPolls"/>): its requests to the control API and the peers make no spans here nor in the
    /// peers, so they do not crowd the dashboard's traces.
    /// </summary>
    public async Task<IReadOnlyList<PeerObservation>> PollOnceAsync(CancellationToken cancellationToken)
    {
        using var poll = TelemetryPolls.Begin();
        var number = Interlocked.Increment(ref _polls);
        var resources = (await environment.Control.GetResourcesAsync(cancellationToken).ConfigureAwait(false))
            .ToDictionary(r => r.Name, StringComparer.Ordinal);
        var polls = peers.Select(async peer =>
        {
            var live = resources.TryGetValue(peer, out var resource) && resource.IsLive;
            if (resource?.Urls is { } urls && urls.TryGetValue("http", out var http))
            {
                _urls[peer] = new Uri(http.TrimEnd('/') + "/");
            }

            PeerStatus? status = null;
            if (live && _urls.TryGetValue(peer, out var url))
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(environment.StatusTimeout);
                try
                {
                    status = await environment.Peers.GetStatusAsync(url, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or ChaosStepException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    status = null;
                }
            }

            var observation = status is null
                ? new PeerObservation(DateTimeOffset.UtcNow, peer, live, false, 0, null, null, 0, 0, 0, Poll: number)
                : new PeerObservation(DateTimeOffset.UtcNow, peer, live, true, status.Height, status.TipHash, status.StateRoot, status.BlocksRejected, status.Banned.Count,
                    status.ConnectedPeers.Count, status.Mempool, status.LiveStateRoot, status.Boot, status.BlockLogSeq, number, status.Broken);
            history.Add(observation);
            if (status is not null)
            {
                _lastStatus[peer] = status;
                environment.Proxy?.MirrorListeners(peer, status.SwarmListener(), status.TorrentListener());
                await ReadBlockLogAsync(peer, status, first: number == 1, cancellationToken).ConfigureAwait(false);
                await DetectReorgAsync(peer, status, cancellationToken).ConfigureAwait(false);
            }

            return observation;
        });
        return await Task.WhenAll(polls).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the block-log entries of <paramref name="peer"/> it has not read yet. A process seen for the first time is read
    /// from its first entry (what it loaded from its store), except those already running at the run's first poll, whose
    /// past (earlier runs against the same testbed) is skipped.
    /// </summary>
    private async Task ReadBlockLogAsync(string peer, PeerStatus status, bool first, CancellationToken cancellationToken)
    {
        if (status.Boot is not { Length: > 0 } boot)
        {
            return;
        }

        var cursor = _cursors.GetOrAdd(peer, _ => new LogCursor());
        await cursor.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (cursor.Boot != boot)
            {
                cursor.Boot = boot;
                cursor.Seq = first ? status.BlockLogSeq : 0;
            }

            while (status.BlockLogSeq > cursor.Seq)
            {
                BlockLogPage page;
                try
                {
                    page = await environment.Peers.GetBlockLogAsync(Url(peer), cursor.Seq, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or ChaosStepException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    // The peer went away; entries it logged and we did not read were never acknowledged to us.
                    return;
                }

                if (page.Boot != boot)
                {
                    // It restarted between /status and /blocklog: the next poll reads the new process from its start.
                    return;
                }

                if (page.FirstSeq > cursor.Seq + 1)
                {
                    history.Add(new BlockLogGap(DateTimeOffset.UtcNow, peer, boot, cursor.Seq + 1, page.FirstSeq - 1, "the peer no longer held these entries"));
                }

                var now = DateTimeOffset.UtcNow;
                foreach (var entry in page.Entries)
                {
                    history.Add(new BlockEvent(now, peer, boot, entry.Seq, entry.AtMs, entry.Hash, entry.Height, entry.Via, entry.Status, entry.Accepted, entry.Reason, entry.From));
                    cursor.Seq = Math.Max(cursor.Seq, entry.Seq);
                }

                if (page.Entries.Count == 0 || cursor.Seq >= page.LastSeq)
                {
                    return;
                }
            }
        }
        finally
        {
            cursor.Gate.Release();
        }
    }

    private async Task DetectReorgAsync(string peer, PeerStatus status, CancellationToken cancellationToken)
    {
        var previous = _lastTip.TryGetValue(peer, out var last) ? last : default;
        _lastTip[peer] = (status.TipHash, status.Height);
        if (previous.Tip is null || previous.Tip == status.TipHash)
        {
            return;
        }

        try
        {
            var (known, onMain) = await environment.Peers.GetBlockAsync(Url(peer), previous.Tip, cancellationToken).ConfigureAwait(false);
            if (known && !onMain)
            {
                history.Add(new ReorgRecord(DateTimeOffset.UtcNow, peer, previous.Tip, status.TipHash, previous.Height, status.Height));
            }
        }
        catch (Exception e) when (e is HttpRequestException or ChaosStepException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Peer went away between the two requests: the reorg, if any, is seen on a later tip change.
        }
    }

    private sealed class LogCursor
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public string? Boot { get; set; }

        public long Seq { get; set; }
    }
}
