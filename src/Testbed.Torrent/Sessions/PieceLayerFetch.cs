using System.Numerics;
using Testbed.Torrent.Messages;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Sessions;

/// <summary>
/// The piece layers of a v2 magnet being fetched: one buffer per file, the runs to ask for (at most 512 pieces each, with
/// proofs up to the pieces root). Guarded by the owning session's lock, through <see cref="MetadataExchange"/>.
/// </summary>
internal sealed class PieceLayerFetch
{
    /// <summary>Pieces asked for in one hash request (BEP 52: length should not be above 512).</summary>
    private const int PieceLayerRun = 512;

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

    /// <summary>One hash request of the fetch: its range, the layer's padded width, the file's piece count, who was asked.</summary>
    internal sealed class Run(HashRange range, long width, int pieces)
    {
        public HashRange Range { get; } = range;

        public long Width { get; } = width;

        public int Pieces { get; } = pieces;

        public SessionPeer? AskedOf { get; set; }

        public long AskedAt { get; set; }

        public bool Done { get; set; }
    }
}

/// <summary>The piece layers of a v2 magnet, every run verified: the info and the layers to set storage up with.</summary>
internal sealed record FetchedPieceLayers(TorrentInfo Info, IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>> Layers);
