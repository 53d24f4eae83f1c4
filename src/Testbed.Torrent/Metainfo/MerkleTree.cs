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

    private static int BlocksPerPiece(int pieceLength)
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
