using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Testbed.Ledger;
using Testbed.Ledger.Chain;
using Testbed.Peer.Audit;
using Testbed.Peer.Faults;
using Testbed.Peer.Hosting;
using Testbed.Peer.Network;
using Testbed.Peer.Network.Messages;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.Sessions;

namespace Testbed.Peer.Propagation;

/// <summary>
/// Block propagation: a new block becomes a one-file torrent that we seed, and an announcement (hash, height, info hash,
/// bencoded info dict, W3C traceparent) goes to every connected peer. A receiver fetches the torrent from whoever
/// announced it, hands the JWS to the chain (verify, replay, extend or reorganise), then seeds it and announces it on.
/// The receiver's spans continue the announcer's trace.
/// </summary>
public sealed class BlockPropagator(
    Blockchain chain,
    NetworkSwarm swarm,
    TorrentCache blocks,
    FaultState faults,
    BlockTimings timings,
    BlockLog log,
    string peerName,
    TimeSpan downloadTimeout,
    ILogger logger)
{
    private readonly ConcurrentDictionary<Hash256, ConcurrentDictionary<string, SwarmPeer>> _holders = new();
    private readonly ConcurrentDictionary<Hash256, byte> _inFlight = new();
    private readonly ConcurrentDictionary<Hash256, Orphan> _orphans = new();
    private readonly BackgroundWork _work = new("block propagation", logger);
    private int _retrying;
    private long _rejected;

    /// <summary>Most blocks kept while their parent is missing (beyond that, catch-up fetches them again).</summary>
    public const int MaxOrphans = 512;

    /// <summary>Raised when an announced block's parent is unknown (we are behind or on another branch).</summary>
    public event Action<SwarmPeer>? OrphanSeen;

    /// <summary>
    /// Raised when a block's download lost every source and no other peer that announced it is left to try: a peer that
    /// holds the block without having announced it (it got the block by catch-up) can still serve it by a chain segment.
    /// </summary>
    public event Action? SourcesLost;

    /// <summary>Most download attempts for one announced block (each with sources not tried before).</summary>
    public const int MaxDownloadAttempts = 8;

    /// <summary>Blocks refused after download.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Starts seeding a block (a miner does this while its own chain stores the block, to announce sooner).</summary>
    public async Task SeedAsync(BlockTorrent torrent, CancellationToken cancellationToken) =>
        await blocks.SeedAsync(torrent.Info, torrent.Content, cancellationToken).ConfigureAwait(false);

    /// <summary>Seeds a block and announces it to every peer not known to have it.</summary>
    public Task PublishAsync(string token, Hash256 hash, long height, CancellationToken cancellationToken) =>
        PublishAsync(BlockTorrent.Of(token, hash), height, cancellationToken);

    /// <summary>Seeds a block already described as a torrent and announces it to every peer not known to have it.</summary>
    public async Task PublishAsync(BlockTorrent torrent, long height, CancellationToken cancellationToken)
    {
        var (hash, info) = (torrent.Hash, torrent.Info);
        await SeedAsync(torrent, cancellationToken).ConfigureAwait(false);
        using var activity = PeerTelemetry.Source.StartActivity("block.announce", ActivityKind.Producer);
        activity?.SetTag(PeerTelemetry.Peer, peerName);
        activity?.SetTag(PeerTelemetry.BlockHeight, height);
        activity?.SetTag(PeerTelemetry.BlockHash, hash.ToString());
        var tip = chain.Tip;
        var announcement = new BlockAnnouncement(hash, height, info.InfoHash, info.RawBytes.ToArray(), Activity.Current?.Id, tip.Height, tip.CumulativeWork);
        var known = _holders.TryGetValue(hash, out var h) ? h.Keys.ToHashSet(StringComparer.Ordinal) : null;
        var sent = swarm.Broadcast(announcement, known);
        activity?.SetTag(PeerTelemetry.NetPeer, string.Join(',', sent.Select(p => p.Name)));
    }

    /// <summary>Handles an announcement: fetch, verify, replay, seed, announce on.</summary>
    public void OnAnnounce(SwarmPeer peer, BlockAnnouncement message)
    {
        var hash = message.Hash;
        if (message is { TipHeight: { } tn, TipWork: { } tw })
        {
            peer.RecordClaim(tn, tw);
        }

        _holders.GetOrAdd(hash, _ => new(StringComparer.Ordinal))[peer.PeerId] = peer;
        TrimHolders();
        if (faults.ShouldDropAnnouncement() || chain.Contains(hash))
        {
            return;
        }

        TorrentInfo info;
        try
        {
            info = TorrentInfo.Parse(message.Info);
        }
        catch (Exception e) when (e is BencodeException or MetainfoException or ArgumentException or InvalidDataException)
        {
            swarm.Ban(peer, $"block announcement with an unusable info dict: {e.Message}");
            return;
        }

        if (info.InfoHash != message.InfoHash || info.Name != hash + ".jws" || info.IsMultiFile || info.TotalLength > chain.Network.MaxBlockBytes || info.TotalLength == 0)
        {
            swarm.Ban(peer, $"block announcement for {hash} does not describe that block's torrent");
            return;
        }

        if (peer.TorrentEndPoint is not { } source)
        {
            return;
        }

        if (!_inFlight.TryAdd(hash, 0))
        {
            // Already fetching it: the announcer becomes another source of the same swarm.
            _work.Run(async stop =>
            {
                try
                {
                    await blocks.DownloadAsync(info, [source], downloadTimeout, stop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is TimeoutException or TorrentSourcesLostException)
                {
                    // The first receive of the block reports the outcome.
                }
            });
            return;
        }

        _work.Run(stop => ReceiveAsync(peer, source, hash, message.Height, info, message.TraceParent, stop));
    }

    private async Task ReceiveAsync(SwarmPeer peer, IPEndPoint source, Hash256 hash, long height, TorrentInfo info, string? traceparent, CancellationToken cancellationToken)
    {
        ActivityContext.TryParse(traceparent, null, isRemote: true, out var parent);
        using var activity = PeerTelemetry.Source.StartActivity("block.receive", ActivityKind.Consumer, parent);
        activity?.SetTag(PeerTelemetry.Peer, peerName);
        activity?.SetTag(PeerTelemetry.BlockHeight, height);
        activity?.SetTag(PeerTelemetry.BlockHash, hash.ToString());
        activity?.SetTag(PeerTelemetry.NetPeer, peer.Name);
        activity?.SetTag("torrent.infohash", info.InfoHash.ToHex());
        var watch = Stopwatch.StartNew();
        double downloadMs = 0;
        try
        {
            byte[]? bytes = null;
            var sources = new List<IPEndPoint> { source };
            sources.AddRange(HolderSources(hash));
            var tried = new HashSet<IPEndPoint>();
            for (var attempt = 1; bytes is null; attempt++)
            {
                tried.UnionWith(sources);
                try
                {
                    bytes = await blocks.DownloadAsync(info, sources.Distinct(), downloadTimeout, cancellationToken).ConfigureAwait(false);
                    downloadMs = watch.Elapsed.TotalMilliseconds;
                }
                catch (TorrentSourcesLostException e)
                {
                    activity?.AddEvent(new ActivityEvent("torrent.sources_lost", tags: new ActivityTagsCollection { ["reason"] = e.Reason }));
                    BanIfCorrupt(peer, hash, e.Message);
                    // A crashed source fails the download at once: other peers that announced the block are tried now,
                    // rather than after the whole download timeout.
                    sources = [.. HolderSources(hash).Where(s => !tried.Contains(s)).Distinct()];
                    if (sources.Count > 0 && attempt < MaxDownloadAttempts)
                    {
                        logger.LogInformation("block {Hash} from {Peer}: {Error}; trying {Sources}", hash, peer, e.Message, string.Join(", ", sources));
                        continue;
                    }

                    DownloadFailed(activity, peer, hash, e.Message);
                    SourcesLost?.Invoke();
                    return;
                }
                catch (TimeoutException e)
                {
                    BanIfCorrupt(peer, hash, e.Message);
                    DownloadFailed(activity, peer, hash, e.Message);
                    return;
                }
            }

            var token = Encoding.ASCII.GetString(bytes);
            var result = chain.AddBlock(token);
            log.Add(hash, height, "announce", result, peer.Name);
            var applyMs = watch.Elapsed.TotalMilliseconds - downloadMs;
            activity?.SetTag(PeerTelemetry.Result, result.Status.ToString());
            switch (result.Status)
            {
                case AddBlockStatus.Connected or AddBlockStatus.Reorganized or AddBlockStatus.SideBranch:
                    timings.Accepted(hash, height, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "announce", downloadMs, applyMs, activity?.TraceId.ToString());
                    await PublishAsync(token, hash, height, cancellationToken).ConfigureAwait(false);
                    break;
                case AddBlockStatus.Orphan:
                    // Blocks may arrive out of order; keep it (with this receive's context, so that connecting it later stays
                    // in its trace) until its parent connects, or catch-up brings the branch.
                    if (KeepOrphan(token, hash, height, activity?.Context ?? parent) is { } missing && chain.Contains(missing))
                    {
                        // The parent connected between our AddBlock and keeping the orphan: its tip change found nothing to retry.
                        RetryOrphans();
                    }
                    else
                    {
                        OrphanSeen?.Invoke(peer);
                    }

                    break;
                case AddBlockStatus.Rejected:
                    Interlocked.Increment(ref _rejected);
                    activity?.SetStatus(ActivityStatusCode.Error, $"{result.Reason}: {result.Detail}");
                    await blocks.DropAsync(info.InfoHash).ConfigureAwait(false);
                    swarm.Ban(peer, $"sent invalid block {hash}: {result.Reason}: {result.Detail}");
                    break;
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            logger.LogWarning(e, "receiving block {Hash} failed", hash);
        }
        finally
        {
            _inFlight.TryRemove(hash, out _);
        }
    }

    /// <summary>Torrent endpoints of the connected, unbanned peers that announced the block.</summary>
    private IEnumerable<IPEndPoint> HolderSources(Hash256 hash) =>
        _holders.TryGetValue(hash, out var known)
            ? known.Values.Where(p => !swarm.IsBanned(p.PeerId) && !p.Connection.Closed.IsCancellationRequested).Select(p => p.TorrentEndPoint).OfType<IPEndPoint>()
            : [];

    /// <summary>The torrent session banned a source whose pieces failed their SHA-1 check: the announcer answers for it.</summary>
    private void BanIfCorrupt(SwarmPeer peer, Hash256 hash, string error)
    {
        if (error.Contains("banned", StringComparison.Ordinal))
        {
            swarm.Ban(peer, $"served corrupt pieces of block {hash}");
        }
    }

    private void DownloadFailed(Activity? activity, SwarmPeer peer, Hash256 hash, string error)
    {
        activity?.SetStatus(ActivityStatusCode.Error, error);
        activity?.SetTag(PeerTelemetry.Result, "download_failed");
        logger.LogInformation("block {Hash} from {Peer}: {Error}", hash, peer, error);
    }

    /// <summary>Keeps a block whose parent is unknown; returns that parent (null when the block could not be kept).</summary>
    private Hash256? KeepOrphan(string token, Hash256 hash, long height, ActivityContext context)
    {
        if (_orphans.Count >= MaxOrphans)
        {
            // Parents that never came: start over rather than keep stale blocks.
            _orphans.Clear();
        }

        try
        {
            var block = Ledger.Blocks.Block.Verify(token, chain.Network.MaxBlockBytes, chain.Network.MaxTransactionsPerBlock, chain.VerifiedTransactions, peerName);
            _orphans.TryAdd(hash, new Orphan(token, block.Header.PreviousHash, height, context));
            return block.Header.PreviousHash;
        }
        catch (Ledger.Validation.BlockRejectedException)
        {
            return null;
        }
    }

    /// <summary>Cancels the receives and orphan retries in progress and waits for them.</summary>
    public ValueTask StopAsync() => _work.DisposeAsync();

    /// <summary>After the chain changed: connects kept blocks whose parent is now known, and announces them on.</summary>
    public void RetryOrphans()
    {
        if (_orphans.IsEmpty || Interlocked.Exchange(ref _retrying, 1) == 1)
        {
            return;
        }

        _work.Run(async stop =>
        {
            // The caller's span (usually the receive of the parent, whose block connect raised the tip change) flows into
            // this task: each orphan is connected under the context of its own receive instead, so that its verification,
            // replay and onward announce stay in its block's trace.
            Activity.Current = null;
            try
            {
                bool progressed;
                do
                {
                    progressed = false;
                    foreach (var (hash, orphan) in _orphans.ToArray())
                    {
                        if (!chain.Contains(orphan.Parent) || !_orphans.TryRemove(hash, out _))
                        {
                            continue;
                        }

                        if (chain.Contains(hash))
                        {
                            // Catch-up (or another announce) brought it meanwhile: nothing to verify again.
                            continue;
                        }

                        progressed |= await ConnectOrphanAsync(hash, orphan, stop).ConfigureAwait(false);
                    }
                }
                while (progressed);
            }
            finally
            {
                Volatile.Write(ref _retrying, 0);
            }

            // An orphan kept while this pass was ending would wait for the next tip change.
            if (_orphans.Values.Any(o => chain.Contains(o.Parent)))
            {
                RetryOrphans();
            }
        });
    }

    /// <summary>Connects a kept orphan (span block.connect, under the receive that kept it) and announces it on; true when it was accepted.</summary>
    private async Task<bool> ConnectOrphanAsync(Hash256 hash, Orphan orphan, CancellationToken cancellationToken)
    {
        using var activity = PeerTelemetry.Source.StartActivity("block.connect", ActivityKind.Internal, orphan.Context);
        activity?.SetTag(PeerTelemetry.Peer, peerName);
        activity?.SetTag(PeerTelemetry.BlockHeight, orphan.Height);
        activity?.SetTag(PeerTelemetry.BlockHash, hash.ToString());
        var result = chain.AddBlock(orphan.Token);
        log.Add(hash, orphan.Height, "announce", result);
        activity?.SetTag(PeerTelemetry.Result, result.Status.ToString());
        if (result.Status is not (AddBlockStatus.Connected or AddBlockStatus.Reorganized or AddBlockStatus.SideBranch))
        {
            if (result.Status == AddBlockStatus.Rejected)
            {
                activity?.SetStatus(ActivityStatusCode.Error, $"{result.Reason}: {result.Detail}");
            }

            return false;
        }

        timings.Accepted(hash, orphan.Height, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "announce", traceId: activity?.TraceId.ToString());
        await PublishAsync(orphan.Token, hash, orphan.Height, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>A block kept until its parent is known, with the context of the receive that kept it.</summary>
    private sealed record Orphan(string Token, Hash256 Parent, long Height, ActivityContext Context);

    private void TrimHolders()
    {
        if (_holders.Count <= 4096)
        {
            return;
        }

        foreach (var key in _holders.Keys.Take(_holders.Count - 2048).ToList())
        {
            _holders.TryRemove(key, out _);
        }
    }
}
