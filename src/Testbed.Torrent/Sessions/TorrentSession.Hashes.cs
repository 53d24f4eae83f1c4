using System.Numerics;
using Testbed.Torrent.Messages;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Sessions;

/// <summary>BEP 52 hash requests: answered from the piece layers with uncle proofs, or rejected; answers to ours go to the <see cref="MetadataExchange"/>.</summary>
public sealed partial class TorrentSession
{
    /// <summary>Hash requests one peer may send a second before it counts as flooding (each can cost hashing work).</summary>
    private const int MaxHashRequestsPerSecond = 64;

    // Each file's tree above its piece layer, built once on the first request for it (a request then costs only its answer).
    private readonly Dictionary<PiecesRoot, IReadOnlyList<byte[]>> _pieceTrees = [];

    /// <summary>Hash requests answered with hashes (for tests and diagnostics).</summary>
    public int HashRequestsAnswered { get; private set; }

    /// <summary>Hash requests answered with hash reject (for tests and diagnostics).</summary>
    public int HashRequestsRejected { get; private set; }

    private void OnHashRangeLocked(SessionPeer conn, HashRangeMessage message)
    {
        if (message.Id == MessageId.HashReject)
        {
            _metadataExchange.OnHashReject(conn, message.Range, _peers);
            return;
        }

        var now = Environment.TickCount64;
        if (now - conn.HashRequestWindowStart >= 1000)
        {
            conn.HashRequestWindowStart = now;
            conn.HashRequestsInWindow = 0;
        }

        if (++conn.HashRequestsInWindow > MaxHashRequestsPerSecond)
        {
            throw new PeerProtocolException($"hash request flood: more than {MaxHashRequestsPerSecond} a second");
        }

        if (AnswerHashRequestLocked(message.Range) is { } hashes)
        {
            HashRequestsAnswered++;
            conn.Send(new HashesMessage(message.Range, hashes));
        }
        else
        {
            // BEP 52: every hash request is answered with hashes or a hash reject.
            HashRequestsRejected++;
            conn.Send(new HashRangeMessage(MessageId.HashReject, message.Range));
        }
    }

    private void OnHashesLocked(SessionPeer conn, HashesMessage message)
    {
        var fetched = _metadataExchange.OnHashes(conn, message, out var badProof);
        if (badProof is not null)
        {
            BanLocked(conn, badProof);
        }

        if (fetched is not null)
        {
            // Every run proved up to its root: the magnet's storage is set up with the layers (off the lock).
            _pieceLayers = fetched.Layers;
            _ = Task.Run(async () =>
            {
                try
                {
                    await SetUpStorageAsync(fetched.Info, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            });
        }
    }

    /// <summary>
    /// The hashes for a request at the piece layer of a file longer than one piece whose layer we hold; null for anything else
    /// (an unknown root, the block layer, other layers, a range outside the layer, a proof past the root).
    /// </summary>
    private byte[]? AnswerHashRequestLocked(HashRange range)
    {
        var info = Info;
        if (info is null || info.Version == TorrentVersion.V1 || !_pieceLayers.TryGetValue(range.PiecesRoot, out var layer))
        {
            return null;
        }

        var pieceHeight = BitOperations.Log2((uint)MerkleTree.BlocksPerPiece(info.PieceLength));
        if (range.BaseLayer != pieceHeight)
        {
            // The block layer would need the file's data hashed per request; only the piece layer is served so far.
            return null;
        }

        var pieces = layer.Length / MerkleTree.HashSize;
        var width = (long)BitOperations.RoundUpToPowerOf2((ulong)pieces);
        if (!_pieceTrees.TryGetValue(range.PiecesRoot, out var tree))
        {
            tree = MerkleTree.Layers(layer.Span, pieceHeight, width);
            _pieceTrees[range.PiecesRoot] = tree;
        }

        return MerkleTree.Proof(tree, pieceHeight, width, range.Index, range.Length, range.ProofLayers);
    }
}
