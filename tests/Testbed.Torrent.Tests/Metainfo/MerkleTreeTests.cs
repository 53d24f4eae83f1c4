using System.Security.Cryptography;

namespace Testbed.Torrent.Tests.Metainfo;

/// <summary>BEP 52 merkle roots and piece layers on cases small enough to write out by hand.</summary>
public sealed class MerkleTreeTests
{
    private const int Block = MerkleTree.BlockSize;

    private static readonly byte[] Zero = new byte[32];

    private static byte[] H(params byte[][] parts) => SHA256.HashData(parts.SelectMany(p => p).ToArray());

    private static byte[] Data(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Leaf(byte[] data, int block) => SHA256.HashData(data.AsSpan(block * Block, Math.Min(Block, data.Length - (block * Block))));

    [Fact]
    public void Padding_leaves_are_zero_and_padding_above_them_is_the_hash_of_two_pads()
    {
        Assert.Equal(Zero, MerkleTree.PadHash(0).ToArray());
        Assert.Equal(H(Zero, Zero), MerkleTree.PadHash(1).ToArray());
        Assert.Equal(H(H(Zero, Zero), H(Zero, Zero)), MerkleTree.PadHash(2).ToArray());
    }

    [Fact]
    public void A_file_of_one_block_has_the_blocks_hash_as_root_and_a_short_last_block_is_hashed_as_it_is()
    {
        var data = Data(100);
        Assert.Equal(SHA256.HashData(data), MerkleTree.FileRoot(MerkleTree.HashBlocks(data)).ToArray());
    }

    [Fact]
    public void Three_blocks_are_padded_with_one_zero_leaf()
    {
        var data = Data((2 * Block) + 5);
        var (h0, h1, h2) = (Leaf(data, 0), Leaf(data, 1), Leaf(data, 2));
        var expected = H(H(h0, h1), H(h2, Zero));
        Assert.Equal(expected, MerkleTree.FileRoot(MerkleTree.HashBlocks(data)).ToArray());
    }

    [Fact]
    public void Piece_layer_of_five_blocks_in_32_KiB_pieces_and_its_root()
    {
        var data = Data((4 * Block) + 1);
        var h = Enumerable.Range(0, 5).Select(i => Leaf(data, i)).ToArray();
        var pieces = new[] { H(h[0], h[1]), H(h[2], h[3]), H(h[4], Zero) };
        var layer = MerkleTree.PieceLayer(MerkleTree.HashBlocks(data), 2 * Block);
        Assert.Equal(pieces.SelectMany(p => p).ToArray(), layer);

        // Three pieces are padded to four with a padding piece: the hash of two zero leaves, not zeros.
        var root = H(H(pieces[0], pieces[1]), H(pieces[2], H(Zero, Zero)));
        Assert.Equal(root, MerkleTree.RootFromPieceLayer(layer, 2 * Block).ToArray());
        Assert.Equal(root, MerkleTree.FileRoot(MerkleTree.HashBlocks(data)).ToArray());
    }

    [Fact]
    public void A_last_piece_with_one_block_of_four_is_padded_with_zero_leaves()
    {
        var data = Data((4 * Block) + 7);
        var h = Enumerable.Range(0, 5).Select(i => Leaf(data, i)).ToArray();
        var layer = MerkleTree.PieceLayer(MerkleTree.HashBlocks(data), 4 * Block);
        Assert.Equal(H(H(h[0], h[1]), H(h[2], h[3])), layer[..32]);
        Assert.Equal(H(H(h[4], Zero), H(Zero, Zero)), layer[32..]);
        Assert.Equal(H(layer[..32], layer[32..]), MerkleTree.RootFromPieceLayer(layer, 4 * Block).ToArray());
    }

    [Fact]
    public void Piece_lengths_that_are_not_powers_of_two_of_at_least_16_KiB_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.PieceLayer(new byte[64], 3 * Block));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.PieceLayer(new byte[64], Block / 2));
    }
}
