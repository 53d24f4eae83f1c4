using System.Diagnostics;
using Testbed.Torrent.Messages;
using Testbed.Torrent.PiecePicking;

namespace Testbed.Torrent.Sessions;

/// <summary>Pieces in and out: a finished piece is verified before it is written (a failure bans its senders), a served piece before it is sent.</summary>
public sealed partial class TorrentSession
{
    /// <summary>
    /// Verifies and stores the pieces the read loops finished, in order, until the session stops. A failure that is no
    /// peer's nor the disk's (a bug) fails <see cref="Completion"/> rather than leaving the download stalled.
    /// </summary>
    private async Task RunPipelineAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.RunAsync(VerifyAndStore, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Trace.TraceError($"torrent {InfoHash.ToHex()}: verifying and storing pieces failed: {e}");
            _completed.TrySetException(e);
        }
    }

    /// <summary>
    /// Waits until the pieces handed over so far are verified (or the session stops): a peer that leaves is detached only
    /// after its last pieces were checked, so whether any source is left is judged on what the download really lacks.
    /// </summary>
    private async Task DrainPipelineAsync()
    {
        try
        {
            await _pipeline.DrainAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: nothing more is verified.
        }
    }

    /// <summary>Hashes a completed piece outside the lock (on the pipeline's consumer); writes it only when it matches; bans the senders when not.</summary>
    private void VerifyAndStore(PieceDownload download)
    {
        var ok = Layout!.Verify(download.Piece, download.Data);
        var written = false;
        if (ok)
        {
            try
            {
                _storage!.WritePiece(download.Piece, download.Data);
                written = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                // Disk trouble is not the peer's fault: the piece goes back to be fetched again, nobody is banned.
                lock (_gate)
                {
                    LastStorageError = $"writing piece {download.Piece}: {e.Message}";
                    _picker!.Failed(download);
                }

                download.ReleaseBuffer();
                return;
            }
        }

        lock (_gate)
        {
            if (ok && written)
            {
                _picker!.Verified(download);
                foreach (var conn in _peers)
                {
                    if (conn.PeerHas is null || !conn.PeerHas[download.Piece])
                    {
                        conn.Send(new PieceIndexMessage(MessageId.Have, download.Piece));
                    }

                    UpdateInterestLocked(conn);
                }

                CheckCompleteLocked();
            }
            else
            {
                TransferMetrics.PiecesFailed.Add(1);
                _picker!.Failed(download);
                var suspects = download.Contributors.Cast<SessionPeer>().ToList();
                foreach (var suspect in suspects)
                {
                    var address = Normalize(suspect.RemoteEndPoint.Address);
                    var strikes = _hashFailures[address] = _hashFailures.GetValueOrDefault(address) + 1;
                    // A piece from one peer alone convicts it; a mixed piece is retried from a single peer.
                    if (suspects.Count == 1 || strikes >= Options.MaxHashFailures)
                    {
                        BanLocked(suspect, $"piece {download.Piece} failed its {HashNames} check");
                    }
                }

                foreach (var conn in _peers)
                {
                    _scheduler.Fill(_picker, conn);
                }
            }
        }

        download.ReleaseBuffer();
    }

    private void BanLocked(SessionPeer conn, string reason)
    {
        var address = Normalize(conn.RemoteEndPoint.Address);
        if (_banned.Add(address))
        {
            TransferMetrics.PeersBanned.Add(1);
        }

        LastDisconnectReason = $"banned {conn.RemoteEndPoint}: {reason}";
        conn.DropReason = $"was banned: {reason}";
        Trace.TraceWarning(LastDisconnectReason);
        conn.Close();
    }

    private string HashNames => Layout is { HasSha1: true, HasMerkle: true } ? "SHA-1 and merkle" : Layout is { HasMerkle: true } ? "merkle" : "SHA-1";

    private bool ReadBlock(SessionPeer conn, ServedPiece served, BlockRequest block, Span<byte> destination)
    {
        var have = _picker;
        var store = _storage;
        var layout = Layout;
        if (have is null || store is null || layout is null || !have.Have[block.Piece])
        {
            return false;
        }

        if (!layout.HasMerkle)
        {
            return store.Read(block.Piece, block.Begin, destination) == destination.Length;
        }

        // BEP 52 data is checked before it is served too: the whole piece is read and hashed once per connection, then its
        // blocks go out from that copy. A piece that changed on disk since it was checked is not served: the request is
        // rejected (fast extension) or dropped, and the error recorded; the peer fetches it elsewhere.
        if (served.Piece != block.Piece)
        {
            var length = layout.LengthOf(block.Piece);
            var buffer = served.Rent(length);
            served.Piece = -1;
            if (store.Read(block.Piece, 0, buffer.AsSpan(0, length)) != length || !layout.Verify(block.Piece, buffer.AsSpan(0, length)))
            {
                LastStorageError = $"piece {block.Piece} on disk fails its {HashNames} check: not served";
                TransferMetrics.PiecesFailed.Add(1);
                if (conn.FastEnabled)
                {
                    conn.Send(new BlockMessage(MessageId.RejectRequest, block));
                }

                return false;
            }

            served.Piece = block.Piece;
        }

        served.Data.AsSpan(block.Begin, destination.Length).CopyTo(destination);
        return true;
    }

    /// <summary>The last piece one connection's writer read and checked, kept while its blocks are sent.</summary>
    private sealed class ServedPiece : IDisposable
    {
        public int Piece { get; set; } = -1;

        public byte[] Data { get; private set; } = [];

        public byte[] Rent(int length)
        {
            if (Data.Length < length)
            {
                Release();
                Data = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
            }

            return Data;
        }

        public void Dispose() => Release();

        private void Release()
        {
            if (Data.Length > 0)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(Data);
                Data = [];
            }
        }
    }
}
