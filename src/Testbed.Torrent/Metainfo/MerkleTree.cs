using System.Numerics;
using System.Security.Cryptography;

namespace Testbed.Torrent.Metainfo;

/// <summary>
/// BEP 52 merkle trees: SHA-256 over 16 KiB blocks of one file, leaves beyond the file's end set to zero,
/// each parent the hash of its two children. Layers are spans of concatenated 32-byte hashes.
/// </summary>
public static class MerkleTree
{
    /// <summary>Bytes per leaf block; a v2 piece length is a power of two of at least this.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>Whether <paramref name="pieceLength"/> can be a v2 piece length: a power of two of at least <see cref="BlockSize"/>.</summary>
    public static bool IsPieceLength(long pieceLength) => pieceLength >= BlockSize && System.Numerics.BitOperations.IsPow2(pieceLength);

    /// <summary>Bytes per hash.</summary>
    public const int HashSize = 32;

    // A padding node at height h is the root of a subtree of 2^h zero leaves; 64 heights cover any long length.
    private static readonly byte[][] PadHashes = BuildPadHashes(64);

    /// <summary>The hash standing for a subtree of only padding whose root is <paramref name="height"/> layers above the leaves.</summary>
    public static ReadOnlySpan<byte> PadHash(int height) => PadHashes[height];

    /// <summary>Number of 16 KiB blocks (leaves holding data) in a file of <paramref name="length"/> bytes.</summary>
    public static long BlockCount(long length) => (length + BlockSize - 1) / BlockSize;

    /// <summary>The SHA-256 of every 16 KiB block of <paramref name="data"/> (the last may be shorter), concatenated.</summary>
    public static byte[] HashBlocks(ReadOnlySpan<byte> data)
    {
        var blocks = checked((int)BlockCount(data.Length));
        var leaves = new byte[blocks * HashSize];
        for (var block = 0; block < blocks; block++)
        {
            var start = block * BlockSize;
            SHA256.HashData(data.Slice(start, Math.Min(BlockSize, data.Length - start)), leaves.AsSpan(block * HashSize, HashSize));
        }

        return leaves;
    }

    /// <summary>
    /// The root over <paramref name="layer"/> (hashes at <paramref name="height"/> above the leaves), the layer
    /// padded with padding nodes to <paramref name="width"/>, a power of two no smaller than its hash count.
    /// </summary>
    public static byte[] Root(ReadOnlySpan<byte> layer, int height, long width)
    {
        if (layer.Length % HashSize != 0)
        {
            throw new ArgumentException($"a layer is a whole number of {HashSize}-byte hashes, got {layer.Length} bytes", nameof(layer));
        }

        long count = layer.Length / HashSize;
        if (width < 1 || !BitOperations.IsPow2(width) || width < count)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, $"width must be a power of two of at least {count}");
        }

        if (count == 0)
        {
            return PadHash(height + BitOperations.Log2((ulong)width)).ToArray();
        }

        var current = layer.ToArray();
        Span<byte> pair = stackalloc byte[2 * HashSize];
        while (width > 1)
        {
            var parents = (count + 1) / 2;
            var next = new byte[parents * HashSize];
            for (var parent = 0; parent < parents; parent++)
            {
                var left = current.AsSpan(2 * parent * HashSize, HashSize);
                var right = (2 * parent) + 1 < count ? current.AsSpan(((2 * parent) + 1) * HashSize, HashSize) : PadHash(height);
                left.CopyTo(pair);
                right.CopyTo(pair[HashSize..]);
                SHA256.HashData(pair, next.AsSpan(parent * HashSize, HashSize));
            }

            current = next;
            count = parents;
            width /= 2;
            height++;
        }

        return current;
    }

    /// <summary>The pieces root of a non-empty file from its block hashes (leaves padded to the next power of two).</summary>
    public static PiecesRoot FileRoot(ReadOnlySpan<byte> blockHashes) =>
        new(Root(blockHashes, 0, (long)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(1, blockHashes.Length / HashSize))));

    /// <summary>
    /// The piece layer of a file: one hash per piece, each the root of the piece's <paramref name="pieceLength"/> / 16 KiB
    /// leaves (zero leaves past the file's end). BEP 52 stores it only for files longer than one piece.
    /// </summary>
    public static byte[] PieceLayer(ReadOnlySpan<byte> blockHashes, int pieceLength)
    {
        var blocksPerPiece = BlocksPerPiece(pieceLength);
        var blocks = blockHashes.Length / HashSize;
        var pieces = (blocks + blocksPerPiece - 1) / blocksPerPiece;
        var layer = new byte[pieces * HashSize];
        for (var piece = 0; piece < pieces; piece++)
        {
            var first = piece * blocksPerPiece;
            var leaves = blockHashes.Slice(first * HashSize, Math.Min(blocksPerPiece, blocks - first) * HashSize);
            Root(leaves, 0, blocksPerPiece).CopyTo(layer.AsSpan(piece * HashSize));
        }

        return layer;
    }

    /// <summary>The root a piece layer hashes up to: its hashes padded with padding pieces to the next power of two.</summary>
    public static PiecesRoot RootFromPieceLayer(ReadOnlySpan<byte> pieceLayer, int pieceLength)
    {
        var pieces = pieceLayer.Length / HashSize;
        return new PiecesRoot(Root(pieceLayer, BitOperations.Log2((uint)BlocksPerPiece(pieceLength)), (long)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(1, pieces))));
    }

    /// <summary>
    /// The hashes a BEP 52 `hashes` message carries for a request: <paramref name="length"/> hashes of <paramref name="layer"/>
    /// (the whole layer of a file's tree at <paramref name="height"/> above the leaves, <paramref name="width"/> nodes once padded)
    /// from <paramref name="index"/>, padding nodes past the layer's end, then <see cref="UncleCount"/> uncles, one per layer
    /// from the range's own subtree upwards, nearest first. Null when the range is not a power-of-two aligned slice of the
    /// layer or the proof runs past the root.
    /// </summary>
    public static byte[]? Proof(ReadOnlySpan<byte> layer, int height, long width, long index, int length, int proofLayers) =>
        Proof(Layers(layer, height, width), height, width, index, length, proofLayers);

    /// <summary>
    /// Every layer of a padded tree from <paramref name="layer"/> (at <paramref name="height"/>, <paramref name="width"/> nodes
    /// once padded) up to the root, each without its padding nodes: what <see cref="Proof(IReadOnlyList{byte[]}, int, long, long, int, int)"/>
    /// answers from, computed once per file.
    /// </summary>
    public static IReadOnlyList<byte[]> Layers(ReadOnlySpan<byte> layer, int height, long width)
    {
        var layers = new List<byte[]> { layer.ToArray() };
        long count = layer.Length / HashSize;
        for (var w = width; w > 1; w /= 2)
        {
            layers.Add(Parents(layers[^1], count, height + layers.Count - 1));
            count = (count + 1) / 2;
        }

        return layers;
    }

    /// <summary>The same as <see cref="Proof(ReadOnlySpan{byte}, int, long, long, int, int)"/> over layers from <see cref="Layers"/>.</summary>
    public static byte[]? Proof(IReadOnlyList<byte[]> layers, int height, long width, long index, int length, int proofLayers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (!IsRange(width, index, length) || proofLayers < 0)
        {
            return null;
        }

        // BEP 52 counts the proof layers from the base, and the first log2(length) - 1 of them are inside the range's own
        // subtree (its hashes make them): what is left are the uncles, one per layer, from the subtree's sibling upwards.
        // libtorrent 2.0 reads it the same way (a request of 2 hashes with 1 proof layer gets 1 uncle).
        var internalLayers = BitOperations.Log2((uint)length);
        var uncles = UncleCount(length, proofLayers);
        if (internalLayers + uncles >= layers.Count)
        {
            return null;
        }

        var result = new byte[(length + uncles) * HashSize];
        for (var i = 0; i < length; i++)
        {
            Node(layers, height, 0, index + i).CopyTo(result.AsSpan(i * HashSize));
        }

        var node = index >> internalLayers;
        for (var u = 0; u < uncles; u++)
        {
            Node(layers, height, internalLayers + u, node ^ 1).CopyTo(result.AsSpan((length + u) * HashSize));
            node /= 2;
        }

        return result;
    }

    // A node of a padded tree: its hash when the layer has it, otherwise the padding hash of its height.
    private static ReadOnlySpan<byte> Node(IReadOnlyList<byte[]> layers, int height, int level, long index) =>
        index < layers[level].Length / HashSize ? layers[level].AsSpan((int)index * HashSize, HashSize) : PadHash(height + level);

    /// <summary>
    /// Checks a BEP 52 `hashes` payload against <paramref name="root"/>: the <paramref name="length"/> base hashes at
    /// <paramref name="height"/> from <paramref name="index"/> hash up, with the uncles after them, to the root of a tree
    /// <paramref name="width"/> nodes wide at that height. True only when every hash is accounted for and the root matches.
    /// </summary>
    public static bool VerifyProof(ReadOnlySpan<byte> hashes, PiecesRoot root, int height, long width, long index, int length)
    {
        if (!IsRange(width, index, length) || hashes.Length % HashSize != 0)
        {
            return false;
        }

        var uncles = (hashes.Length / HashSize) - length;
        var subtreeHeight = height + BitOperations.Log2((uint)length);
        if (uncles < 0 || subtreeHeight + uncles != height + BitOperations.Log2((ulong)width))
        {
            return false;
        }

        Span<byte> node = stackalloc byte[HashSize];
        Root(hashes[..(length * HashSize)], height, length).CopyTo(node);
        Span<byte> pair = stackalloc byte[2 * HashSize];
        var position = index / length;
        for (var u = 0; u < uncles; u++)
        {
            var uncle = hashes.Slice((length + u) * HashSize, HashSize);
            var (left, right) = position % 2 == 0 ? (node.ToArray(), uncle.ToArray()) : (uncle.ToArray(), node.ToArray());
            left.CopyTo(pair);
            right.CopyTo(pair[HashSize..]);
            SHA256.HashData(pair, node);
            position /= 2;
        }

        return new PiecesRoot(node) == root;
    }

    /// <summary>How many uncle hashes follow <paramref name="length"/> base hashes asked for with <paramref name="proofLayers"/> proof layers.</summary>
    public static int UncleCount(int length, int proofLayers) => Math.Max(0, proofLayers - BitOperations.Log2((uint)length) + 1);

    /// <summary>The proof layers to ask for so that a run of hashes from a layer <paramref name="width"/> wide is proved up to the root.</summary>
    public static int ProofLayersToRoot(long width) => Math.Max(0, BitOperations.Log2((ulong)width) - 1);

    // A requested range is a power-of-two run of nodes aligned on its own length, inside the padded layer.
    private static bool IsRange(long width, long index, int length) =>
        width >= 1 && BitOperations.IsPow2(width) && length >= 1 && BitOperations.IsPow2(length) && index >= 0 && index % length == 0 && index + length <= width;

    private static byte[] Parents(byte[] layer, long count, int height)
    {
        var parents = (count + 1) / 2;
        var next = new byte[parents * HashSize];
        Span<byte> pair = stackalloc byte[2 * HashSize];
        for (var parent = 0; parent < parents; parent++)
        {
            layer.AsSpan(2 * parent * HashSize, HashSize).CopyTo(pair);
            ((2 * parent) + 1 < count ? layer.AsSpan(((2 * parent) + 1) * HashSize, HashSize) : PadHash(height)).CopyTo(pair[HashSize..]);
            SHA256.HashData(pair, next.AsSpan(parent * HashSize, HashSize));
        }

        return next;
    }

    /// <summary>Leaves under one piece: <paramref name="pieceLength"/> / 16 KiB.</summary>
    public static int BlocksPerPiece(int pieceLength)
    {
        if (pieceLength < BlockSize || !BitOperations.IsPow2(pieceLength))
        {
            throw new ArgumentOutOfRangeException(nameof(pieceLength), pieceLength, $"a v2 piece length is a power of two of at least {BlockSize}");
        }

        return pieceLength / BlockSize;
    }

    private static byte[][] BuildPadHashes(int heights)
    {
        var pads = new byte[heights][];
        pads[0] = new byte[HashSize];
        for (var height = 1; height < heights; height++)
        {
            pads[height] = SHA256.HashData([.. pads[height - 1], .. pads[height - 1]]);
        }

        return pads;
    }
}
