using Testbed.Torrent.Extensions;
using Testbed.Torrent.Messages;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.PeerWire;

namespace Testbed.Torrent.Sessions;

/// <summary>
/// Who we upload to: the upload slots, the optimistic unchoke, the allowed-fast pieces we offer, and whether a request
/// may be served. Changes when the upload policy changes. Guarded by the owning session's lock, like the peers it chokes.
/// </summary>
internal sealed class Choker(TorrentSessionOptions options)
{
    private SessionPeer? _optimistic;
    private int _chokeRound;
    private long _nextChoke;

    /// <summary>A peer became interested: unchoked at once while a regular slot is free (not waiting for the next round).</summary>
    public void OnInterested(SessionPeer conn, List<SessionPeer> peers)
    {
        if (conn.AmChoking && UnchokedCount(peers) < options.UploadSlots)
        {
            Unchoke(conn);
        }
    }

    /// <summary>A peer left: it no longer holds the optimistic slot.</summary>
    public void Forget(SessionPeer conn)
    {
        if (_optimistic == conn)
        {
            _optimistic = null;
        }
    }

    /// <summary>Whether a request for <paramref name="piece"/> (which we have) may be served to <paramref name="conn"/> now.</summary>
    public static bool MayServe(SessionPeer conn, int piece) => !conn.AmChoking || conn.AllowedFastForPeer.Contains(piece);

    /// <summary>BEP 6: offers the peer its allowed-fast pieces among those we have (the set is derived from its address).</summary>
    public void OfferAllowedFast(SessionPeer conn, InfoHash infoHash, Bitfield have)
    {
        foreach (var piece in AllowedFastSet.Compute(conn.RemoteEndPoint.Address, infoHash, have.Length, options.AllowedFastCount))
        {
            if (have[piece] && conn.AllowedFastForPeer.Add(piece))
            {
                conn.Send(new PieceIndexMessage(MessageId.AllowedFast, piece));
            }
        }
    }

    /// <summary>Runs a choke round when one is due (every <see cref="TorrentSessionOptions.ChokeInterval"/>).</summary>
    public void Tick(long now, List<SessionPeer> peers, bool seeding)
    {
        if (now >= _nextChoke)
        {
            _nextChoke = now + (long)options.ChokeInterval.TotalMilliseconds;
            Run(peers, seeding);
        }
    }

    /// <summary>
    /// The choker: unchoke the <see cref="TorrentSessionOptions.UploadSlots"/> interested peers that give us the most
    /// (while downloading) or take the most (while seeding), plus one optimistic unchoke rotated every third round.
    /// </summary>
    private void Run(List<SessionPeer> peers, bool seeding)
    {
        var interested = peers.Where(p => p.PeerInterested).ToList();
        var ranked = interested
            .OrderByDescending(p => seeding ? p.UploadRate : p.DownloadRate)
            .ThenBy(_ => Random.Shared.Next())
            .ToList();
        var regular = ranked.Take(options.UploadSlots).ToHashSet();
        var rest = ranked.Skip(options.UploadSlots).ToList();
        if (_chokeRound++ % 3 == 0 || _optimistic is null || !peers.Contains(_optimistic) || regular.Contains(_optimistic))
        {
            _optimistic = rest.Count > 0 ? rest[Random.Shared.Next(rest.Count)] : null;
        }

        foreach (var conn in peers)
        {
            var unchoke = regular.Contains(conn) || conn == _optimistic;
            if (unchoke && conn.AmChoking)
            {
                Unchoke(conn);
            }
            else if (!unchoke && !conn.AmChoking)
            {
                Choke(conn);
            }
        }
    }

    private int UnchokedCount(List<SessionPeer> peers)
    {
        var count = 0;
        foreach (var conn in peers)
        {
            if (!conn.AmChoking && conn != _optimistic)
            {
                count++;
            }
        }

        return count;
    }

    private static void Unchoke(SessionPeer conn)
    {
        conn.AmChoking = false;
        conn.Send(StateMessage.Unchoke);
    }

    private static void Choke(SessionPeer conn)
    {
        conn.AmChoking = true;
        conn.Send(StateMessage.Choke);
        foreach (var dropped in conn.Connection.ClearUploads())
        {
            if (conn.AllowedFastForPeer.Contains(dropped.Piece))
            {
                conn.Connection.QueueUpload(dropped);
            }
            else if (conn.FastEnabled)
            {
                // BEP 6: every request gets exactly one answer, so a choke rejects what it drops.
                conn.Send(new BlockMessage(MessageId.RejectRequest, dropped));
            }
        }
    }
}
