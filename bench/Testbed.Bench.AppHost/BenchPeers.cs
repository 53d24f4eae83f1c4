using System.Net.Http.Json;
using System.Text.Json;
using Testbed.Chaos.Execution;
using Testbed.Contracts.Peers;
using Testbed.Peer.Propagation;

namespace Testbed.Bench.AppHost;

/// <summary>A running peer of a headless bench: its resource name and the base URL of its API.</summary>
internal sealed record BenchPeer(string Name, Uri Url);

/// <summary>A peer's catch-up so far, from its /status: segment torrents downloaded, seconds spent verifying and storing.</summary>
internal sealed record SyncProgress(long SegmentsDownloaded, double ApplySeconds);

/// <summary>
/// What the headless benches ask of the peers: mining (with the run's secret), status polls until a condition holds on
/// every peer, and the peers' own reports (/timings, the catch-up part of /status).
/// </summary>
internal sealed class BenchPeers : IDisposable
{
    /// <summary>How long a wait for every peer may take unless the bench says otherwise.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private readonly PeerApiClient _api;
    private readonly HttpClient _reports = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = Patience };

    public BenchPeers(TestbedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _api = model.Peers;
    }

    /// <summary>The running peer of <paramref name="resource"/>.</summary>
    public static BenchPeer Of(HeadlessTestbed testbed, IResourceBuilder<ProjectResource> resource) => new(resource.Resource.Name, testbed.Url(resource));

    /// <summary>Mines <paramref name="blocks"/> blocks on <paramref name="peer"/>; the last.</summary>
    public async Task<MinedBlockReport> MineAsync(BenchPeer peer, int blocks, CancellationToken cancellationToken)
    {
        var mined = await _api.MineAsync(peer.Url, blocks, cancellationToken).ConfigureAwait(false);
        return mined.Count > 0 ? mined[^1] : throw new InvalidOperationException($"{peer.Name} mined nothing");
    }

    /// <summary>
    /// Submits <paramref name="count"/> contracts (one register_student action each, ids unique to <paramref name="tag"/>) to
    /// <paramref name="peer"/>, which signs them with its wallet at consecutive nonces and gossips them.
    /// </summary>
    public async Task SubmitAsync(BenchPeer peer, int count, string tag, CancellationToken cancellationToken)
    {
        // A few at once: the peer signs one at a time (its nonce lock), but the requests' round trips overlap.
        var options = new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, count), options, async (i, token) =>
            await _api.SubmitContractAsync(peer.Url, BenchContracts.RegisterStudent($"{tag}-{i}"), token).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>Polls every peer's /status until <paramref name="condition"/> holds on each; throws naming the ones it never held on.</summary>
    public async Task WaitAsync(IReadOnlyList<BenchPeer> peers, Func<PeerStatus, bool> condition, CancellationToken cancellationToken, int pollMs = 200, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Patience;
        var clock = Stopwatch.StartNew();
        var pending = peers.ToList();
        while (true)
        {
            var statuses = await Task.WhenAll(pending.Select(p => _api.GetStatusAsync(p.Url, cancellationToken))).ConfigureAwait(false);
            pending = [.. pending.Where((_, i) => !condition(statuses[i]))];
            if (pending.Count == 0)
            {
                return;
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"{string.Join(", ", pending.Select(p => p.Name))} did not get there within {limit.TotalSeconds:0} s");
            }

            await Task.Delay(pollMs, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The peer's timing report of the blocks it accepted at or after <paramref name="sinceMs"/> (unix ms).</summary>
    public async Task<IReadOnlyList<BlockTiming>> TimingsAsync(BenchPeer peer, long sinceMs, CancellationToken cancellationToken)
    {
        var report = await _reports.GetFromJsonAsync<TimingsReport>(new Uri(peer.Url, $"timings?since={sinceMs}"), JsonSerializerOptions.Web, cancellationToken).ConfigureAwait(false);
        return report?.Blocks ?? [];
    }

    /// <summary>The peer's catch-up so far.</summary>
    public async Task<SyncProgress> SyncAsync(BenchPeer peer, CancellationToken cancellationToken)
    {
        var sync = (await _api.GetStatusAsync(peer.Url, cancellationToken).ConfigureAwait(false)).Sync;
        return new SyncProgress(sync.SegmentsDownloaded, sync.ApplySeconds);
    }

    /// <inheritdoc />
    public void Dispose() => _reports.Dispose();

    /// <summary>The body of GET /timings.</summary>
    private sealed record TimingsReport(string Peer, IReadOnlyList<BlockTiming> Blocks);
}
