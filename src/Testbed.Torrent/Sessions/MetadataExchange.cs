using Testbed.Torrent.Extensions;
using Testbed.Torrent.Messages;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Sessions;

/// <summary>
/// The metadata a magnet lacks, fetched from peers: the info dictionary by BEP 9 ut_metadata (which we also serve), then for a
/// v2-only torrent the piece layers by BEP 52 hash requests, used only once every run proves up to its pieces root. Changes
/// when the metadata exchange changes. Guarded by the owning session's lock.
/// </summary>
internal sealed class MetadataExchange(MetadataAssembler? assembler, InfoHash? infoHashV2Truncated)
{
    /// <summary>How long a hash request may stay unanswered before another peer is asked.</summary>
    private const long HashRequestRetryMs = 5000;

    private PieceLayerFetch? _layerFetch;

    /// <summary>True once the info dictionary is assembled (then parsed, its piece layers fetched): nothing more is asked.</summary>
    public bool Assembled { get; private set; }

    /// <summary>The peer's extension handshake named the metadata size.</summary>
    public void Offer(int size) => assembler?.Offer(size);

    /// <summary>Asks <paramref name="conn"/> for the next metadata piece, while we lack the info dictionary and it has ut_metadata.</summary>
    public void Request(SessionPeer conn, TorrentInfo? info)
    {
        if (assembler is null || info is not null || Assembled || conn.RemoteExtensions?.IdOf("ut_metadata") is not { } id)
        {
            return;
        }

        if (assembler.NextRequest(Environment.TickCount64) is { } piece)
        {
            conn.Send(new ExtendedMessage(id, new MetadataMessage(MetadataMessageType.Request, piece).Encode()));
        }
    }

    /// <summary>Answers a request from our info dictionary, or takes a piece; the raw info dictionary once it is complete and matches the hash.</summary>
    public byte[]? OnMessage(SessionPeer conn, MetadataMessage message, TorrentInfo? info)
    {
        switch (message.Type)
        {
            case MetadataMessageType.Request:
                var remoteId = conn.RemoteExtensions?.IdOf("ut_metadata");
                if (remoteId is null)
                {
                    return null;
                }

                var raw = info?.RawBytes;
                var offset = message.Piece * MetadataMessage.PieceSize;
                if (raw is { } bytes && offset < bytes.Length)
                {
                    var data = bytes.Slice(offset, Math.Min(MetadataMessage.PieceSize, bytes.Length - offset)).ToArray();
                    conn.Send(new ExtendedMessage(remoteId.Value, new MetadataMessage(MetadataMessageType.Data, message.Piece, bytes.Length, data).Encode()));
                }
                else
                {
                    conn.Send(new ExtendedMessage(remoteId.Value, new MetadataMessage(MetadataMessageType.Reject, message.Piece).Encode()));
                }

                break;
            case MetadataMessageType.Data:
                if (assembler is null || info is not null || Assembled)
                {
                    return null;
                }

                if (assembler.Accept(message) is { } complete)
                {
                    Assembled = true;
                    return complete;
                }

                Request(conn, info);
                break;
            default:
                break;
        }

        return null;
    }

    /// <summary>Whether a v2-only torrent lacks the piece layer of a file longer than one piece (a hybrid is checked by SHA-1).</summary>
    public static bool NeedsPieceLayers(TorrentInfo info, IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>> known) =>
        info.Version == TorrentVersion.V2
        && info.FileTree.Any(f => f.Length > info.PieceLength && !known.ContainsKey(f.PiecesRoot!.Value));

    /// <summary>Starts fetching the piece layers missing from <paramref name="known"/>, asking every v2 peer.</summary>
    public void StartPieceLayers(TorrentInfo info, IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>> known, List<SessionPeer> peers)
    {
        _layerFetch = new PieceLayerFetch(info, known);
        foreach (var conn in peers)
        {
            RequestPieceLayers(conn);
        }
    }

    /// <summary>Asks <paramref name="conn"/> for the next piece-layer run nobody is waiting on, if it speaks v2.</summary>
    public void RequestPieceLayers(SessionPeer conn, SessionPeer? except = null)
    {
        if (_layerFetch is not { } fetch || !InV2Swarm(conn) || conn == except)
        {
            return;
        }

        // One request in flight per peer keeps the work a peer is asked for small.
        if (fetch.Runs.Any(r => r.AskedOf == conn && !r.Done))
        {
            return;
        }

        var now = Environment.TickCount64;
        var run = fetch.Runs.FirstOrDefault(r => !r.Done && (r.AskedOf is null || now - r.AskedAt > HashRequestRetryMs));
        if (run is null)
        {
            return;
        }

        run.AskedOf = conn;
        run.AskedAt = now;
        conn.Send(new HashRangeMessage(MessageId.HashRequest, run.Range));
    }

    /// <summary>The peer rejected a run we asked of it: someone else is asked.</summary>
    public void OnHashReject(SessionPeer conn, HashRange range, List<SessionPeer> peers)
    {
        if (_layerFetch?.Runs.FirstOrDefault(r => r.Range == range && r.AskedOf == conn) is { } run)
        {
            run.AskedOf = null;
            foreach (var other in peers)
            {
                RequestPieceLayers(other, except: conn);
            }
        }
    }

    /// <summary>
    /// Takes the hashes of a run; <paramref name="badProof"/> says why they do not prove up to the root (the sender is to be
    /// banned). Returns the layers once every run is in.
    /// </summary>
    public FetchedPieceLayers? OnHashes(SessionPeer conn, HashesMessage message, out string? badProof)
    {
        badProof = null;
        if (_layerFetch is not { } fetch || fetch.Runs.FirstOrDefault(r => r.Range == message.Range && !r.Done) is not { } run)
        {
            // Hashes we did not ask for (or asked again elsewhere and already have): the decoder bounded them; ignore.
            return null;
        }

        var range = message.Range;
        if (!MerkleTree.VerifyProof(message.Hashes, range.PiecesRoot, range.BaseLayer, run.Width, range.Index, range.Length))
        {
            badProof = $"hashes for {range.PiecesRoot} (pieces {range.Index}..{range.Index + range.Length - 1}) do not prove up to the pieces root";
            run.AskedOf = null;
            return null;
        }

        // Only the hashes of real pieces are kept; the rest of the run is padding past the file's last piece.
        var real = Math.Min(range.Length, run.Pieces - range.Index);
        message.Hashes.AsSpan(0, real * MerkleTree.HashSize).CopyTo(fetch.Layers[range.PiecesRoot].AsSpan(range.Index * MerkleTree.HashSize));
        run.Done = true;
        RequestPieceLayers(conn);
        if (!fetch.Runs.All(r => r.Done))
        {
            return null;
        }

        _layerFetch = null;
        return new FetchedPieceLayers(fetch.Info, fetch.Layers.ToDictionary(kv => kv.Key, kv => (ReadOnlyMemory<byte>)kv.Value));
    }

    /// <summary>
    /// Whether a peer has the v2 half: it set the v2 bit, or the handshake named the truncated v2 hash (libtorrent sets the
    /// bit only for hybrids, where it tells the v1 swarm; a v2-only swarm is v2 by its hash).
    /// </summary>
    private bool InV2Swarm(SessionPeer conn) => conn.Remote.SupportsV2 || new InfoHash(conn.Remote.InfoHash) == infoHashV2Truncated;
}
