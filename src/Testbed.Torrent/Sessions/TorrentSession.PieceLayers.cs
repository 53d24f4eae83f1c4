using System.Numerics;
using Testbed.Torrent.Messages;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.PeerWire;

namespace Testbed.Torrent.Sessions;

/// <summary>
/// Piece layers of a v2 magnet: BEP 9 metadata has none, so they are asked for with BEP 52 hash requests from peers that set
/// the v2 bit, in runs of at most 512 pieces with proofs up to the pieces root, and used only once every run verifies.
/// </summary>
public sealed partial class TorrentSession
{
    /// <summary>Pieces asked for in one hash request (BEP 52: length should not be above 512).</summary>
    private const int PieceLayerRun = 512;

    /// <summary>How long a hash request may stay unanswered before another peer is asked.</summary>
    private const long HashRequestRetryMs = 5000;

    private PieceLayerFetch? layerFetch;

    /// <summary>Whether a v2-only torrent lacks the piece layer of a file longer than one piece (a hybrid is checked by SHA-1).</summary>
    private bool NeedsPieceLayers(TorrentInfo info) =>
        info.Version == TorrentVersion.V2
        && info.FileTree.Any(f => f.Length > info.PieceLength && !pieceLayers.ContainsKey(f.PiecesRoot!.Value));

    /// <summary>
    /// Whether a peer has the v2 half: it set the v2 bit, or the handshake named the truncated v2 hash (libtorrent sets the
    /// bit only for hybrids, where it tells the v1 swarm; a v2-only swarm is v2 by its hash).
    /// </summary>
    private bool InV2Swarm(PeerConnection conn) => conn.Remote.SupportsV2 || new InfoHash(conn.Remote.InfoHash) == InfoHashV2Truncated;

    private void StartPieceLayerFetchLocked(TorrentInfo info)
    {
        layerFetch = new PieceLayerFetch(info, pieceLayers);
        foreach (var conn in peers)
        {
            RequestPieceLayersLocked(conn);
        }
    }

    /// <summary>Asks <paramref name="conn"/> for the next piece-layer run nobody is waiting on, if it speaks v2.</summary>
    private void RequestPieceLayersLocked(PeerConnection conn, PeerConnection? except = null)
    {
        if (layerFetch is not { } fetch || !InV2Swarm(conn) || conn == except)
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

    private void OnHashRejectLocked(PeerConnection conn, HashRange range)
    {
        if (layerFetch?.Runs.FirstOrDefault(r => r.Range == range && r.AskedOf == conn) is { } run)
        {
            run.AskedOf = null;
            foreach (var other in peers)
            {
                RequestPieceLayersLocked(other, except: conn);
            }
        }
    }

    private void OnHashesLocked(PeerConnection conn, HashesMessage message)
    {
        if (layerFetch is not { } fetch || fetch.Runs.FirstOrDefault(r => r.Range == message.Range && !r.Done) is not { } run)
        {
            // Hashes we did not ask for (or asked again elsewhere and already have): the decoder bounded them; ignore.
            return;
        }

        var range = message.Range;
        if (!MerkleTree.VerifyProof(message.Hashes, range.PiecesRoot, range.BaseLayer, run.Width, range.Index, range.Length))
        {
            BanLocked(conn, $"hashes for {range.PiecesRoot} (pieces {range.Index}..{range.Index + range.Length - 1}) do not prove up to the pieces root");
            run.AskedOf = null;
            return;
        }

        // Only the hashes of real pieces are kept; the rest of the run is padding past the file's last piece.
        var real = Math.Min(range.Length, run.Pieces - range.Index);
        message.Hashes.AsSpan(0, real * MerkleTree.HashSize).CopyTo(fetch.Layers[range.PiecesRoot].AsSpan(range.Index * MerkleTree.HashSize));
        run.Done = true;
        RequestPieceLayersLocked(conn);
        if (fetch.Runs.All(r => r.Done))
        {
            var info = fetch.Info;
            pieceLayers = fetch.Layers.ToDictionary(kv => kv.Key, kv => (ReadOnlyMemory<byte>)kv.Value);
            layerFetch = null;
            _ = Task.Run(async () =>
            {
                try
                {
                    await SetUpStorageAsync(info, stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            });
        }
    }

    /// <summary>The piece layers being fetched: one buffer per file, the runs to ask for.</summary>
    private sealed class PieceLayerFetch
    {
        public PieceLayerFetch(TorrentInfo info, IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>> known)
        {
            Info = info;
            var height = BitOperations.Log2((uint)MerkleTree.BlocksPerPiece(info.PieceLength));
            foreach (var file in info.FileTree.Where(f => f.Length > info.PieceLength))
            {
                var root = file.PiecesRoot!.Value;
                if (known.ContainsKey(root) || Layers.ContainsKey(root))
                {
                    continue;
                }

                var pieces = (int)((file.Length + info.PieceLength - 1) / info.PieceLength);
                var width = (long)BitOperations.RoundUpToPowerOf2((ulong)pieces);
                Layers[root] = new byte[pieces * MerkleTree.HashSize];
                for (var index = 0; index < pieces; index += PieceLayerRun)
                {
                    // A power-of-two run (padding past the end) with a proof up to the root.
                    var length = (int)Math.Min(PieceLayerRun, BitOperations.RoundUpToPowerOf2((uint)(pieces - index)));
                    Runs.Add(new Run(new HashRange(root, height, index, length, MerkleTree.ProofLayersToRoot(width)), width, pieces));
                }
            }
        }

        public TorrentInfo Info { get; }

        public Dictionary<PiecesRoot, byte[]> Layers { get; } = [];

        public List<Run> Runs { get; } = [];
    }

    /// <summary>One hash request of the fetch: its range, the layer's padded width, the file's piece count, who was asked.</summary>
    private sealed class Run(HashRange range, long width, int pieces)
    {
        public HashRange Range { get; } = range;

        public long Width { get; } = width;

        public int Pieces { get; } = pieces;

        public PeerConnection? AskedOf { get; set; }

        public long AskedAt { get; set; }

        public bool Done { get; set; }
    }
}
