using System.Collections.Concurrent;
using Testbed.Chaos.Checking;

namespace Testbed.Chaos.Execution;

/// <summary>
/// Polls every peer's /status (and its process state from the control API) into the run's history, detects reorgs (a new
/// tip whose predecessor tip left the main chain), and keeps the proxy's mirrors in step with the peers' ports.
/// </summary>
internal sealed class HistoryRecorder(ScenarioEnvironment environment, IReadOnlyList<string> peers, RunHistory history)
{
    private readonly ConcurrentDictionary<string, (string Tip, long Height)> _lastTip = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PeerStatus> _lastStatus = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Uri> _urls = new(StringComparer.Ordinal);

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
    /// One observation of every peer; returns the latest per peer. A poll (<see cref="TelemetryPolls"/>): its requests to
    /// the control API and the peers make no spans here nor in the peers, so they do not crowd the dashboard's traces.
    /// </summary>
    public async Task<IReadOnlyList<PeerObservation>> PollOnceAsync(CancellationToken cancellationToken)
    {
        using var poll = TelemetryPolls.Begin();
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
                ? new PeerObservation(DateTimeOffset.UtcNow, peer, live, false, 0, null, null, 0, 0, 0)
                : new PeerObservation(DateTimeOffset.UtcNow, peer, live, true, status.Height, status.TipHash, status.StateRoot, status.Rejected, status.Banned, status.ConnectedPeers, status.Mempool);
            history.Add(observation);
            if (status is not null)
            {
                _lastStatus[peer] = status;
                environment.Proxy?.MirrorListeners(peer, status.Swarm, status.Torrents);
                await DetectReorgAsync(peer, status, cancellationToken).ConfigureAwait(false);
            }

            return observation;
        });
        return await Task.WhenAll(polls).ConfigureAwait(false);
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
}
