using System.Numerics;

namespace Testbed.Torrent.Tests.Metainfo;

/// <summary>BEP 52 proofs: every range a hashes message can carry verifies against the root, and nothing else does.</summary>
public sealed class MerkleProofTests
{
    private const int PieceLength = 64 * 1024;
    private const int PieceHeight = 2;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(33)]
    public void Every_aligned_range_with_a_full_proof_verifies_against_the_pieces_root(int pieces)
    {
        var layer = Layer(pieces);
        var root = MerkleTree.RootFromPieceLayer(layer, PieceLength);
        var width = (long)BitOperations.RoundUpToPowerOf2((uint)pieces);
        var treeHeight = BitOperations.Log2((ulong)width);
        for (var length = 1; length <= width; length *= 2)
        {
            for (long index = 0; index < width; index += length)
            {
                var hashes = MerkleTree.Proof(layer, PieceHeight, width, index, length, MerkleTree.ProofLayersToRoot(width));
                Assert.NotNull(hashes);
                Assert.Equal(length + treeHeight - BitOperations.Log2((uint)length), hashes.Length / 32);
                // One proof layer more would run past the root.
                Assert.Null(MerkleTree.Proof(layer, PieceHeight, width, index, length, MerkleTree.ProofLayersToRoot(width) + 1));
                Assert.True(MerkleTree.VerifyProof(hashes, root, PieceHeight, width, index, length), $"{pieces} pieces, index {index}, length {length}");

                // Any one hash changed, base or uncle, breaks the proof.
                for (var i = 0; i < hashes.Length / 32; i++)
                {
                    var tampered = (byte[])hashes.Clone();
                    tampered[(i * 32) + 5] ^= 0x80;
                    Assert.False(MerkleTree.VerifyProof(tampered, root, PieceHeight, width, index, length));
                }
            }
        }
    }

    [Theory]
    [InlineData(2, 1, 1)]
    [InlineData(4, 1, 0)]
    [InlineData(4, 3, 2)]
    [InlineData(1, 0, 1)]
    [InlineData(512, 12, 4)]
    public void The_first_log2_length_minus_one_proof_layers_need_no_uncle(int length, int proofLayers, int uncles)
    {
        // BEP 52, as libtorrent 2.0.8 answers: 2 hashes with 1 proof layer come with 1 uncle, 4 with 1 with none.
        Assert.Equal(uncles, MerkleTree.UncleCount(length, proofLayers));
    }

    [Fact]
    public void Base_hashes_past_the_layer_are_padding_and_short_proofs_omit_the_top_uncles()
    {
        var layer = Layer(5);
        var hashes = MerkleTree.Proof(layer, PieceHeight, 8, 4, 4, 1)!;
        // Pieces 4..7: one real hash, three padding hashes of the piece layer's height; 1 proof layer is inside the range.
        Assert.Equal(4 * 32, hashes.Length);
        Assert.Equal(layer.AsSpan(4 * 32, 32).ToArray(), hashes.AsSpan(0, 32).ToArray());
        Assert.All(Enumerable.Range(1, 3), i => Assert.Equal(MerkleTree.PadHash(PieceHeight).ToArray(), hashes.AsSpan(i * 32, 32).ToArray()));
        // Such a partial proof does not reach the root, so it does not verify alone.
        Assert.False(MerkleTree.VerifyProof(hashes, MerkleTree.RootFromPieceLayer(layer, PieceLength), PieceHeight, 8, 4, 4));
    }

    [Fact]
    public void Ranges_that_are_not_aligned_powers_of_two_inside_the_tree_get_no_proof()
    {
        var layer = Layer(6);
        Assert.Null(MerkleTree.Proof(layer, PieceHeight, 8, 3, 2, 0));  // not a multiple of its length
        Assert.Null(MerkleTree.Proof(layer, PieceHeight, 8, 0, 3, 0));  // not a power of two
        Assert.Null(MerkleTree.Proof(layer, PieceHeight, 8, 8, 2, 0));  // past the padded layer
        Assert.Null(MerkleTree.Proof(layer, PieceHeight, 8, 0, 2, 3));  // a proof above the root
        Assert.Null(MerkleTree.Proof(layer, PieceHeight, 8, 0, 16, 0)); // wider than the tree
        Assert.False(MerkleTree.VerifyProof(new byte[31], MerkleTree.RootFromPieceLayer(layer, PieceLength), PieceHeight, 8, 0, 1));
    }

    private static byte[] Layer(int pieces)
    {
        var data = new byte[pieces * PieceLength];
        new Random(pieces).NextBytes(data);
        return MerkleTree.PieceLayer(MerkleTree.HashBlocks(data), PieceLength);
    }
}
