using Testbed.Torrent.Messages;
using Testbed.Torrent.PiecePicking;

namespace Testbed.Torrent.Sessions;

/// <summary>
/// Which blocks we ask of whom: fills each peer's pipeline from the <see cref="PiecePicker"/>, adapts its depth to the peer's
/// rate, accounts for answers, rejects, cancels and timeouts. Changes when the request policy changes. Guarded by the owning
/// session's lock (it keeps scratch lists and touches per-peer state and the picker).
/// </summary>
internal sealed class RequestScheduler(TorrentSessionOptions options)
{
    /// <summary>Unrequested blocks a peer may send (cancel races) before it counts as misbehaving.</summary>
    private const int MaxUnexpectedBlocks = 64;

    private readonly List<BlockRequest> _scratch = [];
    private readonly List<object> _cancelScratch = [];

    /// <summary>Tops up the requests in flight to <paramref name="conn"/> to its pipeline depth, if it has what we want and lets us ask.</summary>
    public void Fill(PiecePicker? picker, SessionPeer conn)
    {
        if (picker is null || conn.PeerHas is null || !conn.AmInterested || picker.Have.IsComplete)
        {
            return;
        }

        IReadOnlySet<int>? only = null;
        if (conn.PeerChoking)
        {
            if (!conn.FastEnabled || conn.AllowedFastFromPeer.Count == 0)
            {
                return;
            }

            only = conn.AllowedFastFromPeer;
        }

        var want = conn.PipelineDepth - conn.Outstanding.Count;
        if (want <= 0)
        {
            return;
        }

        if (conn.Outstanding.Count == 0)
        {
            conn.LastBlockReceived = Environment.TickCount64;
        }

        _scratch.Clear();
        picker.Pick(conn, conn.PeerHas, want, _scratch, only);
        foreach (var request in _scratch)
        {
            conn.Outstanding.Add(request);
            conn.Send(new BlockMessage(MessageId.Request, request));
        }
    }

    /// <summary>Gives back every request in flight to <paramref name="conn"/> (it choked us without BEP 6, timed out, or left).</summary>
    public static void ReleaseOutstanding(PiecePicker? picker, SessionPeer conn)
    {
        if (picker is not null)
        {
            foreach (var request in conn.Outstanding)
            {
                picker.Release(conn, request);
                RememberCancelled(conn, request);
            }
        }

        conn.Outstanding.Clear();
    }

    /// <summary>The peer rejected one of our requests (BEP 6): another peer may fetch the block.</summary>
    public static void OnReject(PiecePicker? picker, SessionPeer conn, BlockRequest block)
    {
        if (conn.Outstanding.Remove(block))
        {
            picker?.Release(conn, block);
        }
    }

    /// <summary>
    /// Whether a block that arrived answers a request in flight (then it is no longer outstanding); a block we cancelled may
    /// cross our cancel on the wire, but too many blocks never asked for break the protocol.
    /// </summary>
    public static bool TakeAnswered(PiecePicker? picker, SessionPeer conn, BlockRequest block)
    {
        if (!conn.Outstanding.Remove(block) || picker is null)
        {
            // A block we cancelled or dropped can cross our cancel on the wire; only data never asked for counts.
            if (conn.RecentlyCancelled.Remove(block))
            {
                return false;
            }

            if (++conn.UnexpectedBlocks > MaxUnexpectedBlocks)
            {
                throw new PeerProtocolException($"more than {MaxUnexpectedBlocks} blocks we never requested");
            }

            return false;
        }

        return true;
    }

    /// <summary>Hands an answered block to the picker, cancels the same block at endgame peers; the piece when it is complete.</summary>
    public PieceDownload? Receive(PiecePicker picker, SessionPeer conn, PieceMessage message, BlockRequest block)
    {
        _cancelScratch.Clear();
        var outcome = picker.Receive(conn, message.Piece, message.Begin, message.Data, _cancelScratch, out var done);
        if (outcome == BlockOutcome.Accepted)
        {
            foreach (SessionPeer other in _cancelScratch)
            {
                if (other.Outstanding.Remove(block))
                {
                    RememberCancelled(other, block);
                    other.Send(new BlockMessage(MessageId.Cancel, block));
                }
            }
        }

        return done;
    }

    /// <summary>Whether the peer left its requests unanswered for longer than <see cref="TorrentSessionOptions.RequestTimeout"/>.</summary>
    public bool TimedOut(SessionPeer conn, long now) =>
        conn.Outstanding.Count > 0 && now - conn.LastBlockReceived > (long)options.RequestTimeout.TotalMilliseconds;

    /// <summary>Adaptive pipelining: keep about <see cref="PipelineLimits.Seconds"/> of the peer's rate in flight, within bounds and its reqq.</summary>
    public void AdaptPipeline(SessionPeer conn)
    {
        var limits = options.Pipeline;
        var depth = (int)(conn.DownloadRate * limits.Seconds / BlockRequest.StandardLength);
        var cap = Math.Min(limits.MaxDepth, conn.RemoteExtensions?.RequestQueue ?? limits.MaxDepth);
        conn.PipelineDepth = Math.Clamp(Math.Max(depth, limits.InitialDepth), 1, cap);
    }

    /// <summary>The peer's BEP 10 handshake named its request queue: never keep more than that in flight.</summary>
    public static void LimitPipeline(SessionPeer conn, int requestQueue) => conn.PipelineDepth = Math.Min(conn.PipelineDepth, requestQueue);

    private static void RememberCancelled(SessionPeer conn, BlockRequest block)
    {
        if (conn.RecentlyCancelled.Count >= 1024)
        {
            conn.RecentlyCancelled.Clear();
        }

        conn.RecentlyCancelled.Add(block);
    }
}
