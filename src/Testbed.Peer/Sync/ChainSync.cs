using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Testbed.Ledger;
using Testbed.Ledger.Chain;
using Testbed.Peer.Audit;
using Testbed.Peer.Hosting;
using Testbed.Peer.Network;
using Testbed.Peer.Network.Messages;
using Testbed.Peer.Propagation;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.Sessions;

namespace Testbed.Peer.Sync;

/// <summary>
/// Catch-up by chain segments: the best chain is cut into aligned ranges of <c>S</c> blocks (segment k holds heights
/// kS+1 .. (k+1)S); a peer asks everyone for segment k, each peer that has blocks there answers with the info dict of a
/// deterministic torrent of those blocks (JWS tokens, one per line), so peers on the same chain offer the same info hash
/// and the segment downloads from all of them at once. Every block is then verified and replayed by the chain; a peer's
/// claimed tip only triggers the download, it is never believed: the chain follows the verified work.
/// </summary>
public sealed class ChainSync(
    Blockchain chain,
    NetworkSwarm swarm,
    TorrentCache segments,
    BlockTimings timings,
    BlockLog log,
    int segmentBlocks,
    TimeSpan downloadTimeout,
    string peerName,
    Func<bool> hideChain,
    ILogger logger)
{
    private readonly ConcurrentDictionary<long, ConcurrentDictionary<string, SegmentOffer?>> _answers = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly BackgroundWork _work = new("catch-up", logger);
    private long _segmentsDownloaded;
    private long _applyTicks;
    private bool _behindAtLastCheck;
    private long _blocksSynced;

    /// <summary>Chain-segment torrents downloaded so far.</summary>
    public long SegmentsDownloaded => Interlocked.Read(ref _segmentsDownloaded);

    /// <summary>Blocks added through catch-up.</summary>
    public long BlocksSynced => Interlocked.Read(ref _blocksSynced);

    /// <summary>Time spent verifying, replaying and storing caught-up blocks.</summary>
    public TimeSpan ApplyTime => TimeSpan.FromTicks(Interlocked.Read(ref _applyTicks));

    /// <summary>True while a catch-up runs.</summary>
    public bool Running { get; private set; }

    /// <summary>Completed catch-up passes (a pass with nobody ahead counts too).</summary>
    public int Passes => Volatile.Read(ref _passes);

    private int _passes;

    /// <summary>The last catch-up problem.</summary>
    public string? LastError { get; private set; }

    /// <summary>Asks the loop to check for peers ahead of us now.</summary>
    public void Trigger()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>Runs catch-up whenever triggered, and every few seconds, while some peer claims more work than we have.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var triggered = await _wake.WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
                var tip = chain.Tip;
                var ahead = swarm.Peers.Any(p => p.ClaimedWork > tip.CumulativeWork);
                // Unless asked (an orphan, a new peer), a claim must outlive one check: the block behind a fresh claim
                // is normally already arriving as an announcement.
                var act = ahead && (triggered || _behindAtLastCheck);
                _behindAtLastCheck = ahead && !act;
                if (act)
                {
                    Running = true;
                    await CatchUpAsync(cancellationToken).ConfigureAwait(false);
                }

                Interlocked.Increment(ref _passes);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is TimeoutException or TorrentSourcesLostException or IOException or InvalidDataException or OperationCanceledException)
            {
                LastError = e.Message;
                logger.LogInformation("catch-up: {Error}", e.Message);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A bug in one pass must not end catch-up for the life of the process (a peer would silently stay behind).
                LastError = e.Message;
                logger.LogError(e, "catch-up pass failed");
            }
            finally
            {
                Running = false;
            }
        }
    }

    /// <summary>
    /// Downloads segments from our height on until nobody offers more. The next segment downloads while the current one is
    /// verified and replayed, so the network time hides behind the verification time.
    /// </summary>
    public async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        var k = Math.Max(0, chain.Tip.Height - 1) / segmentBlocks;
        var steppedBack = 0;
        var retries = 0;
        Task<FetchedSegment?>? prefetch = null;
        var prefetchK = -1L;
        while (!cancellationToken.IsCancellationRequested)
        {
            FetchedSegment? fetched;
            try
            {
                fetched = prefetch is not null && prefetchK == k
                    ? await prefetch.ConfigureAwait(false)
                    : await FetchAsync(k, cancellationToken).ConfigureAwait(false);
            }
            catch (TorrentSourcesLostException e) when (retries++ < 3)
            {
                // Every offerer's torrent connection closed (a crashed peer): ask again now, so the peers still connected
                // offer it, instead of ending this pass and waiting for the next one.
                LastError = e.Message;
                logger.LogInformation("catch-up: {Error}; asking for segment {Segment} again", e.Message, k);
                prefetch = null;
                continue;
            }

            prefetch = null;
            if (fetched is null)
            {
                return;
            }

            var full = fetched.Offer.To == (k + 1) * segmentBlocks;
            if (full)
            {
                prefetchK = k + 1;
                prefetch = FetchAsync(k + 1, cancellationToken);
            }

            var outcome = await ApplyAsync(fetched).ConfigureAwait(false);
            if (outcome == SegmentOutcome.Orphan && k > 0 && steppedBack < 64)
            {
                // Our branch forked off before this segment: fetch the one before.
                k--;
                steppedBack++;
                continue;
            }

            if (outcome == SegmentOutcome.Failed && retries++ < 3)
            {
                // The offerers were banned; ask the others again.
                continue;
            }

            if (outcome != SegmentOutcome.Applied || !full)
            {
                return;
            }

            k++;
        }
    }

    private enum SegmentOutcome
    {
        Applied,
        Orphan,
        Failed,
    }

    /// <summary>A downloaded segment, who offered it, and the context of its chain.segment span (its blocks are applied under it).</summary>
    private sealed record FetchedSegment(SegmentOffer Offer, List<SwarmPeer> Offerers, string[] Tokens, ActivityContext Context);

    /// <summary>
    /// Asks everyone for segment k and downloads the most offered version from all who offer it. Null when nobody offers
    /// it or no version could be had; throws <see cref="TorrentSourcesLostException"/> when the last version tried failed
    /// because its offerers went away (they may be back, or others may have it by the time we ask again).
    /// </summary>
    private async Task<FetchedSegment?> FetchAsync(long k, CancellationToken cancellationToken)
    {
        TorrentSourcesLostException? lost = null;
        var offers = await RequestOffersAsync(k, cancellationToken).ConfigureAwait(false);
        // Peers on the same chain offer the same info hash; the largest swarm first, then the longest range.
        var groups = offers.GroupBy(o => o.Offer.Info.InfoHash)
            .OrderByDescending(g => g.Count()).ThenByDescending(g => g.First().Offer.To).ToList();
        foreach (var group in groups)
        {
            var offer = group.First().Offer;
            var offerers = group.Select(g => g.Peer).ToList();
            using var activity = PeerTelemetry.Source.StartActivity("chain.segment");
            activity?.SetTag(PeerTelemetry.Peer, peerName);
            activity?.SetTag("segment.from", offer.From);
            activity?.SetTag("segment.to", offer.To);
            activity?.SetTag(PeerTelemetry.NetPeer, string.Join(',', offerers.Select(p => p.Name)));
            byte[] bytes;
            try
            {
                var sources = offerers.Select(p => p.TorrentEndPoint).OfType<System.Net.IPEndPoint>().ToList();
                bytes = await segments.DownloadAsync(offer.Info, sources, downloadTimeout * 2, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException e)
            {
                LastError = e.Message;
                activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                lost = null;
                continue;
            }
            catch (TorrentSourcesLostException e)
            {
                // The offerers' torrent connections closed: the next version (another chain's offer) is tried at once.
                LastError = e.Message;
                activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                lost = e;
                continue;
            }

            Interlocked.Increment(ref _segmentsDownloaded);
            var tokens = Encoding.ASCII.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length != offer.To - offer.From + 1)
            {
                foreach (var peer in offerers)
                {
                    swarm.Ban(peer, $"segment {offer.From}..{offer.To} holds {tokens.Length} blocks");
                }

                await segments.DropAsync(offer.Info.InfoHash).ConfigureAwait(false);
                continue;
            }

            activity?.SetTag(PeerTelemetry.Result, "downloaded");
            return new FetchedSegment(offer, offerers, tokens, activity?.Context ?? default);
        }

        return lost is null ? null : throw lost;
    }

    /// <summary>
    /// Verifies and replays every block of a segment in order (the chain checks signature, work, links and state root), in
    /// span chain.segment.apply under the segment's chain.segment, one block.sync span per block (block.hash, block.height,
    /// result): the blocks' verification, replay and any reorganisation are part of the catch-up's trace, never traces of
    /// their own. Blocks we hold on our best chain (the same JWS at the same height: a segment starts below our tip) are
    /// not verified again.
    /// </summary>
    private async Task<SegmentOutcome> ApplyAsync(FetchedSegment fetched)
    {
        var offer = fetched.Offer;
        using var activity = PeerTelemetry.Source.StartActivity("chain.segment.apply", ActivityKind.Internal, fetched.Context);
        activity?.SetTag(PeerTelemetry.Peer, peerName);
        activity?.SetTag("segment.from", offer.From);
        activity?.SetTag("segment.to", offer.To);
        var outcome = await ApplyBlocksAsync(fetched, activity).ConfigureAwait(false);
        activity?.SetTag(PeerTelemetry.Result, outcome.ToString().ToLowerInvariant());
        return outcome;
    }

    private async Task<SegmentOutcome> ApplyBlocksAsync(FetchedSegment fetched, Activity? activity)
    {
        var offer = fetched.Offer;
        var applied = 0;
        // The leading blocks that are ours already (a block after one that is not cannot be: its parent differs).
        var held = chain.MainChain(offer.From, fetched.Tokens.Length);
        var skip = 0;
        while (skip < held.Count && string.Equals(chain.GetBlockToken(held[skip]), fetched.Tokens[skip], StringComparison.Ordinal))
        {
            skip++;
        }

        activity?.SetTag("segment.held", skip);
        foreach (var token in fetched.Tokens.Skip(skip))
        {
            // One span per block holds its verification and replay; it names the block once the chain has read it.
            using var block = PeerTelemetry.Source.StartActivity("block.sync");
            block?.SetTag(PeerTelemetry.Peer, peerName);
            var started = Stopwatch.GetTimestamp();
            var result = chain.AddBlock(token);
            Interlocked.Add(ref _applyTicks, Stopwatch.GetElapsedTime(started).Ticks);
            if (result.Hash is { } hash)
            {
                block?.SetTag(PeerTelemetry.BlockHeight, result.Height);
                block?.SetTag(PeerTelemetry.BlockHash, hash.ToString());
                log.Add(hash, result.Height, "sync", result, string.Join(",", fetched.Offerers.Select(p => p.Name)));
            }

            block?.SetTag(PeerTelemetry.Result, result.Status.ToString());

            switch (result.Status)
            {
                case AddBlockStatus.Connected or AddBlockStatus.Reorganized or AddBlockStatus.SideBranch:
                    applied++;
                    Interlocked.Increment(ref _blocksSynced);
                    timings.Accepted(result.Hash!.Value, result.Height, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "sync");
                    break;
                case AddBlockStatus.Duplicate:
                    break;
                case AddBlockStatus.Orphan:
                    return applied > 0 ? SegmentOutcome.Applied : SegmentOutcome.Orphan;
                case AddBlockStatus.Rejected:
                    LastError = $"segment {offer.From}..{offer.To}: block {result.Hash}: {result.Reason}: {result.Detail}";
                    block?.SetStatus(ActivityStatusCode.Error, $"{result.Reason}: {result.Detail}");
                    activity?.SetStatus(ActivityStatusCode.Error, LastError);
                    await segments.DropAsync(offer.Info.InfoHash).ConfigureAwait(false);
                    foreach (var peer in fetched.Offerers)
                    {
                        swarm.Ban(peer, $"offered segment {offer.From}..{offer.To} with invalid block {result.Hash}: {result.Reason}: {result.Detail}");
                    }

                    return SegmentOutcome.Failed;
            }
        }

        return SegmentOutcome.Applied;
    }

    private async Task<List<(SwarmPeer Peer, SegmentOffer Offer)>> RequestOffersAsync(long k, CancellationToken cancellationToken)
    {
        var replies = _answers.GetOrAdd(k, _ => new(StringComparer.Ordinal));
        replies.Clear();
        var asked = swarm.Broadcast(new SegmentRequest(k));
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(5) && asked.Any(p => !replies.ContainsKey(p.PeerId) && !p.Connection.Closed.IsCancellationRequested))
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }

        _answers.TryRemove(k, out _);
        return [.. asked.Where(p => replies.TryGetValue(p.PeerId, out var o) && o is not null).Select(p => (p, replies[p.PeerId]!))];
    }

    /// <summary>Handles tb_sync messages: tip reports, segment requests, offers and refusals.</summary>
    public void OnMessage(SwarmPeer peer, SyncMessage message)
    {
        switch (message)
        {
            case TipReport tip:
                // No immediate catch-up: the block behind this hint is normally already on its way as an announcement;
                // the periodic check catches up if it never arrives.
                peer.RecordClaim(tip.Height, tip.Work);
                break;
            case SegmentRequest request:
                _work.Run(stop => OfferAsync(peer, request.Segment, stop));
                break;
            case SegmentOfferMessage offer:
                OnOffer(peer, offer.Segment, offer);
                break;
            case SegmentUnavailable none:
                OnOffer(peer, none.Segment, null);
                break;
        }
    }

    /// <summary>Cancels the segment offers and tip reports in progress and waits for them.</summary>
    public ValueTask StopAsync() => _work.DisposeAsync();

    /// <summary>Tells every peer our new tip (a hint for their catch-up), at most every 50 ms: catch-up moves the tip thousands of times a second.</summary>
    public void BroadcastTip(ChainTip tip)
    {
        // The withhold fault keeps the chain to itself: no hints that would make others come and fetch it.
        if (hideChain() || Interlocked.Exchange(ref _tipPending, 1) == 1)
        {
            return;
        }

        _work.Run(async stop =>
        {
            await Task.Delay(50, stop).ConfigureAwait(false);
            Volatile.Write(ref _tipPending, 0);
            var latest = chain.Tip;
            swarm.Broadcast(new TipReport(latest.Height, latest.CumulativeWork));
        });
    }

    private int _tipPending;

    /// <summary>Records a peer's answer to our request for segment <paramref name="seg"/>: its offer, or none.</summary>
    private void OnOffer(SwarmPeer peer, long seg, SegmentOfferMessage? message)
    {
        if (!_answers.TryGetValue(seg, out var replies))
        {
            return;
        }

        SegmentOffer? offer = null;
        if (message is { From: var from, To: var to } && from == (seg * segmentBlocks) + 1 && to >= from && to - from < segmentBlocks)
        {
            try
            {
                var info = TorrentInfo.Parse(message.Info);
                if (!info.IsMultiFile && info.TotalLength <= (long)chain.Network.MaxBlockBytes * segmentBlocks && IsSegmentName(info.Name, from, to) &&
                    info.InfoHash == message.InfoHash)
                {
                    offer = new SegmentOffer(from, to, info);
                }
            }
            catch (Exception e) when (e is BencodeException or MetainfoException or ArgumentException)
            {
                offer = null;
            }
        }

        replies[peer.PeerId] = offer;
    }

    private async Task OfferAsync(SwarmPeer peer, long seg, CancellationToken cancellationToken)
    {
        try
        {
            var from = (seg * segmentBlocks) + 1;
            var hashes = chain.MainChain(from, segmentBlocks);
            if (hashes.Count == 0 || hideChain())
            {
                peer.Send(new SegmentUnavailable(seg));
                return;
            }

            var content = new StringBuilder();
            foreach (var hash in hashes)
            {
                content.Append(chain.GetBlockToken(hash) ?? throw new InvalidDataException($"block {hash} has no body")).Append('\n');
            }

            var to = from + hashes.Count - 1;
            var bytes = Encoding.ASCII.GetBytes(content.ToString());
            var info = TorrentCache.Describe(SegmentName(from, to, hashes[^1].ToString()), bytes);
            await segments.SeedAsync(info, bytes, cancellationToken).ConfigureAwait(false);
            peer.Send(new SegmentOfferMessage(seg, from, to, info.InfoHash, info.RawBytes.ToArray()));
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            logger.LogWarning(e, "offering segment {Segment} failed", seg);
            peer.Send(new SegmentUnavailable(seg));
        }
    }

    /// <summary>Segment torrent names: heights and the last block's hash (so different branches never share a name).</summary>
    private static string SegmentName(long from, long to, string lastHash) => $"segment-{from}-{to}-{lastHash}.blocks";

    private static bool IsSegmentName(string name, long from, long to)
    {
        var prefix = $"segment-{from}-{to}-";
        return name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".blocks", StringComparison.Ordinal) &&
            Hash256.TryParse(name[prefix.Length..^".blocks".Length], out _);
    }
}

/// <summary>A peer's offer of one chain segment: its heights and the torrent's info dict.</summary>
public sealed record SegmentOffer(long From, long To, TorrentInfo Info);
