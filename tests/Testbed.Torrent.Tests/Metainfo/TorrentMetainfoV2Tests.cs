using System.Security.Cryptography;
using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Tests.Metainfo;

/// <summary>BEP 52 metainfo: v2-only and hybrid info dictionaries, file trees, piece layers, and every refusal.</summary>
public sealed class TorrentMetainfoV2Tests
{
    private const int Piece = 16384;

    private static byte[] Content(string path, long length)
    {
        var bytes = new byte[length];
        new Random(path.GetHashCode(StringComparison.Ordinal)).NextBytes(bytes);
        return bytes;
    }

    private static BencodeDictionary Leaf(long length, byte[]? root) =>
        new() { [string.Empty] = root is null ? new BencodeDictionary { ["length"] = length } : new BencodeDictionary { ["length"] = length, ["pieces root"] = root } };

    /// <summary>A v2 info dictionary over the given files (paths below the torrent's name) and its piece layers.</summary>
    private static (BencodeDictionary Info, BencodeDictionary Layers) V2(int pieceLength, params (string Path, long Length)[] files)
    {
        var tree = new BencodeDictionary();
        var layers = new BencodeDictionary();
        foreach (var (path, length) in files)
        {
            var parts = path.Split('/');
            var directory = tree;
            foreach (var part in parts[..^1])
            {
                if (directory.Get<BencodeDictionary>(part) is not { } child)
                {
                    child = new BencodeDictionary();
                    directory[part] = child;
                }

                directory = child;
            }

            byte[]? root = null;
            if (length > 0)
            {
                var leaves = MerkleTree.HashBlocks(Content(path, length));
                root = MerkleTree.FileRoot(leaves).ToArray();
                if (length > pieceLength)
                {
                    layers.Add(new BencodeString(root), new BencodeString(MerkleTree.PieceLayer(leaves, pieceLength)));
                }
            }

            directory[parts[^1]] = Leaf(length, root);
        }

        var info = new BencodeDictionary { ["name"] = "dir", ["piece length"] = pieceLength, ["meta version"] = 2L, ["file tree"] = tree };
        return (info, layers);
    }

    private static TorrentMetainfo Load(BencodeDictionary info, BencodeDictionary? layers)
    {
        var torrent = new BencodeDictionary { ["info"] = info };
        if (layers is not null)
        {
            torrent["piece layers"] = layers;
        }

        return TorrentMetainfo.Load(torrent.Encode());
    }

    private static string Reject(BencodeDictionary info, BencodeDictionary? layers = null) =>
        Assert.Throws<MetainfoException>(() => Load(info, layers ?? [])).Message;

    /// <summary>Adds a v1 half: `files` as given (entries of path and length, attr p for pads) and zero piece hashes of the right count.</summary>
    private static BencodeDictionary WithV1(BencodeDictionary info, params (string Path, long Length, bool Pad)[] files)
    {
        var list = new BencodeList();
        foreach (var (path, length, pad) in files)
        {
            var entry = new BencodeDictionary { ["length"] = length, ["path"] = new BencodeList(path.Split('/').Select(p => (BencodeValue)p)) };
            if (pad)
            {
                entry["attr"] = "p";
            }

            list.Add(entry);
        }

        var total = files.Sum(f => f.Length);
        info["files"] = list;
        info["pieces"] = new byte[(total + Piece - 1) / Piece * 20];
        return info;
    }

    [Fact]
    public void Loads_a_v2_only_multi_file_torrent_with_its_file_tree_hashes_and_layout()
    {
        var (info, layers) = V2(Piece, ("a.bin", 40_000), ("sub/b.txt", 17), ("sub/empty", 0), ("z.bin", Piece));
        var torrent = Load(info, layers);
        var raw = torrent.Info.RawBytes.ToArray();

        Assert.Equal(TorrentVersion.V2, torrent.Info.Version);
        Assert.Null(torrent.Info.InfoHashV1);
        Assert.Equal(SHA256.HashData(raw), torrent.Info.InfoHashV2!.Value.ToArray());
        Assert.Equal(SHA256.HashData(raw)[..20], torrent.InfoHash.ToArray());
        Assert.True(torrent.Info.IsMultiFile);
        Assert.Equal(["dir/a.bin:40000:0", "dir/sub/b.txt:17:49152", "dir/sub/empty:0:65536", "dir/z.bin:16384:65536"], torrent.Info.FileTree.Select(f => $"{f.RelativePath}:{f.Length}:{f.Offset}"));
        Assert.Equal(MerkleTree.FileRoot(MerkleTree.HashBlocks(Content("a.bin", 40_000))), torrent.Info.FileTree[0].PiecesRoot);
        Assert.Null(torrent.Info.FileTree[2].PiecesRoot);
        // Pad files stand in the layout for the gaps before unaligned files; the last file ends the data.
        Assert.Equal(["dir/a.bin", "dir/.pad/9152", "dir/sub/b.txt", "dir/.pad/16367", "dir/sub/empty", "dir/z.bin"], torrent.Info.Files.Select(f => f.RelativePath));
        Assert.Equal([0L, 40_000, 49152, 49169, 65536, 65536], torrent.Info.Files.Select(f => f.Offset));
        Assert.Equal(81920, torrent.Info.TotalLength);
        Assert.Equal(5, torrent.Info.PieceCount);
        // Only a.bin is longer than one piece; z.bin is exactly one piece and has no layer.
        Assert.Equal([torrent.Info.FileTree[0].PiecesRoot!.Value], torrent.PieceLayers.Keys);
        Assert.Throws<InvalidOperationException>(() => torrent.Info.GetPieceHash(0));
    }

    [Fact]
    public void A_tree_of_one_file_named_like_the_torrent_is_single_file()
    {
        var (info, layers) = V2(Piece, ("dir", 100));
        var torrent = Load(info, layers);
        Assert.False(torrent.Info.IsMultiFile);
        Assert.Equal(["dir"], torrent.Info.Files.Single().Path);
    }

    [Fact]
    public void Loads_a_hybrid_whose_halves_agree_and_gives_both_info_hashes()
    {
        var (info, layers) = V2(Piece, ("a.bin", 100), ("b.bin", 20_000));
        WithV1(info, ("a.bin", 100, false), (".pad/16284", 16284, true), ("b.bin", 20_000, false));
        var torrent = Load(info, layers);
        var raw = torrent.Info.RawBytes.ToArray();

        Assert.Equal(TorrentVersion.Hybrid, torrent.Info.Version);
        Assert.Equal(SHA1.HashData(raw), torrent.Info.InfoHashV1!.Value.ToArray());
        Assert.Equal(torrent.Info.InfoHashV1, torrent.InfoHash);
        Assert.Equal(SHA256.HashData(raw), torrent.Info.InfoHashV2!.Value.ToArray());
        Assert.Equal(3, torrent.Info.Files.Count);
        Assert.Equal(torrent.Info.FileTree[1].PiecesRoot, torrent.Info.Files[2].PiecesRoot);
        Assert.Equal(3, torrent.Info.PieceCount);
    }

    [Fact]
    public void Hybrids_whose_halves_disagree_are_refused_naming_the_file()
    {
        (BencodeDictionary, BencodeDictionary) Fresh() => V2(Piece, ("a.bin", 100), ("b.bin", 100));

        var (renamed, l1) = Fresh();
        WithV1(renamed, ("a.bin", 100, false), (".pad/16284", 16284, true), ("c.bin", 100, false));
        Assert.Contains("file 1 is 'dir/c.bin' in the v1 file list but 'dir/b.bin' in the 'file tree'", Reject(renamed, l1), StringComparison.Ordinal);

        var (longer, l2) = Fresh();
        WithV1(longer, ("a.bin", 101, false), (".pad/16283", 16283, true), ("b.bin", 100, false));
        Assert.Contains("'dir/a.bin' is 101 bytes in the v1 file list but 100 in the 'file tree'", Reject(longer, l2), StringComparison.Ordinal);

        var (unpadded, l3) = Fresh();
        WithV1(unpadded, ("a.bin", 100, false), ("b.bin", 100, false));
        Assert.Contains("'dir/b.bin' starts at byte 100 of the v1 data but at 16384 in the v2 layout", Reject(unpadded, l3), StringComparison.Ordinal);

        var (missing, l4) = Fresh();
        WithV1(missing, ("a.bin", 100, false));
        Assert.Contains("'dir/b.bin' is in the 'file tree' but not in the v1 file list", Reject(missing, l4), StringComparison.Ordinal);

        var (extra, l5) = V2(Piece, ("a.bin", 100));
        WithV1(extra, ("a.bin", 100, false), (".pad/16284", 16284, true), ("b.bin", 100, false));
        Assert.Contains("'dir/b.bin' is in the v1 file list but not in the 'file tree'", Reject(extra, l5), StringComparison.Ordinal);

        var (single, l6) = V2(Piece, ("a.bin", 100));
        single["length"] = 100L;
        single["pieces"] = new byte[20];
        Assert.Contains("v1 half is the single file 'dir'", Reject(single, l6), StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_versions_missing_trees_and_bad_piece_lengths_are_refused()
    {
        var (info, _) = V2(Piece, ("a", 1));
        info["meta version"] = 3L;
        Assert.Contains("'meta version' 3 is not supported", Reject(info), StringComparison.Ordinal);

        (info, _) = V2(Piece, ("a", 1));
        info.Remove("file tree");
        Assert.Contains("'meta version' is 2 but there is no 'file tree'", Reject(info), StringComparison.Ordinal);

        (info, _) = V2(Piece, ("a", 1));
        info.Remove("meta version");
        Assert.Contains("has a 'file tree' but no 'meta version' 2", Reject(info), StringComparison.Ordinal);

        foreach (var pieceLength in new[] { 8192L, 16385L, 3 * 16384L })
        {
            (info, _) = V2(Piece, ("a", 1));
            info["piece length"] = pieceLength;
            Assert.Contains($"piece length {pieceLength} of a v2 torrent is not a power of two of at least 16384", Reject(info), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("..", "'file tree' entry '..' is unsafe")]
    [InlineData(".", "'file tree' entry '.' is unsafe")]
    [InlineData("a/b", "contains a path separator")]
    [InlineData("\0", "contains a NUL character")]
    public void Unsafe_path_components_are_refused(string component, string expected)
    {
        var info = new BencodeDictionary { ["name"] = "dir", ["piece length"] = (long)Piece, ["meta version"] = 2L, ["file tree"] = new BencodeDictionary { ["sub"] = new BencodeDictionary { [component] = Leaf(1, new byte[32]) } } };
        Assert.Contains(expected.Replace("'file tree' entry", "'file tree' directory 'sub' entry", StringComparison.Ordinal), Reject(info), StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_name_is_refused()
    {
        // Below the root an empty key marks its directory as a file, so only the root can hold an empty name.
        var info = new BencodeDictionary { ["name"] = "dir", ["piece length"] = (long)Piece, ["meta version"] = 2L, ["file tree"] = new BencodeDictionary { [string.Empty] = Leaf(1, new byte[32]) } };
        Assert.Contains("'file tree' entry '' is unsafe: empty", Reject(info), StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_trees_are_refused_naming_the_entry()
    {
        BencodeDictionary Info(BencodeDictionary tree) => new() { ["name"] = "dir", ["piece length"] = (long)Piece, ["meta version"] = 2L, ["file tree"] = tree };

        Assert.Contains("'file tree' is empty", Reject(Info([])), StringComparison.Ordinal);
        Assert.Contains("'file tree' directory 'd' is empty", Reject(Info(new() { ["d"] = new BencodeDictionary() })), StringComparison.Ordinal);
        Assert.Contains("'file tree' entry 'd' is an integer, not a dictionary", Reject(Info(new() { ["d"] = 5L })), StringComparison.Ordinal);
        var both = Leaf(1, new byte[32]);
        both["x"] = Leaf(1, new byte[32]);
        Assert.Contains("'file tree' entry 'f' is both a file and a directory", Reject(Info(new() { ["f"] = both })), StringComparison.Ordinal);
        Assert.Contains("'file tree' file 'f' has no 'length'", Reject(Info(new() { ["f"] = new BencodeDictionary { [string.Empty] = new BencodeDictionary() } })), StringComparison.Ordinal);
        Assert.Contains("'file tree' file 'f' length -1 is negative", Reject(Info(new() { ["f"] = Leaf(-1, null) })), StringComparison.Ordinal);
        Assert.Contains("'file tree' file 'f' has 5 bytes but no 'pieces root'", Reject(Info(new() { ["f"] = Leaf(5, null) })), StringComparison.Ordinal);
        Assert.Contains("'file tree' file 'f' has a 'pieces root' of 31 bytes, not 32", Reject(Info(new() { ["f"] = Leaf(5, new byte[31]) })), StringComparison.Ordinal);
        Assert.Contains("'file tree' file 'f' is empty but has a 'pieces root'", Reject(Info(new() { ["f"] = Leaf(0, new byte[32]) })), StringComparison.Ordinal);
    }

    [Fact]
    public void Depth_file_count_total_length_and_piece_count_are_bounded()
    {
        BencodeDictionary Info(BencodeDictionary tree) => new() { ["name"] = "dir", ["piece length"] = (long)Piece, ["meta version"] = 2L, ["file tree"] = tree };

        var deep = Leaf(1, new byte[32]);
        for (var level = 0; level <= TorrentInfo.MaxPathDepth; level++)
        {
            deep = new BencodeDictionary { ["d"] = deep };
        }

        Assert.Contains($"'file tree' is deeper than {TorrentInfo.MaxPathDepth} levels", Reject(Info(deep)), StringComparison.Ordinal);

        var wide = new BencodeDictionary();
        for (var index = 0; index <= TorrentInfo.MaxFiles; index++)
        {
            wide.Add($"f{index}", Leaf(0, null));
        }

        Assert.Contains($"'file tree' has more than {TorrentInfo.MaxFiles} files", Reject(Info(wide)), StringComparison.Ordinal);

        var huge = new BencodeDictionary { ["a"] = Leaf(TorrentInfo.MaxTotalLength / 2, new byte[32]), ["b"] = Leaf(TorrentInfo.MaxTotalLength / 2, new byte[32]) };
        Assert.Contains($"lengths add up to more than {TorrentInfo.MaxTotalLength} bytes at 'b'", Reject(Info(huge)), StringComparison.Ordinal);

        // The info dictionary alone (as a magnet link fetches it) has no layers to bound the piece count.
        var many = Info(new() { ["a"] = Leaf(((long)TorrentInfo.MaxV2PieceCount * Piece) + 1, new byte[32]) });
        Assert.Contains($"more than {TorrentInfo.MaxV2PieceCount} pieces", Assert.Throws<MetainfoException>(() => TorrentInfo.Parse(many.Encode())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Piece_layers_must_cover_every_file_longer_than_a_piece_with_the_right_size_and_hash_to_its_root()
    {
        var (info, layers) = V2(Piece, ("a.bin", 40_000), ("one.bin", Piece));
        var root = Load(info, layers).Info.FileTree[0].PiecesRoot!.Value;
        var good = layers.Single().Value;

        Assert.Contains("'piece layers' has no entry for 'dir/a.bin' (40000 bytes, more than one piece of 16384)", Reject(info, []), StringComparison.Ordinal);

        var shortLayer = new BencodeDictionary { [new BencodeString(root.ToArray()).Text] = new byte[64] };
        shortLayer = new BencodeDictionary();
        shortLayer.Add(new BencodeString(root.ToArray()), new BencodeString(new byte[64]));
        Assert.Contains("piece layer of 'dir/a.bin' is 64 bytes, but 40000 bytes in pieces of 16384 need 3 hashes of 32 bytes (96)", Reject(info, shortLayer), StringComparison.Ordinal);

        var wrong = new BencodeDictionary();
        wrong.Add(new BencodeString(root.ToArray()), new BencodeString(new byte[96]));
        Assert.Contains($"piece layer of 'dir/a.bin' does not hash to its pieces root {root}", Reject(info, wrong), StringComparison.Ordinal);

        var unknown = new BencodeDictionary();
        unknown.Add(new BencodeString(root.ToArray()), good);
        unknown.Add(new BencodeString(new byte[32]), good);
        Assert.Contains($"'piece layers' has an entry for {new string('0', 64)}, the pieces root of no file", Reject(info, unknown), StringComparison.Ordinal);

        var oneRoot = MerkleTree.FileRoot(MerkleTree.HashBlocks(Content("one.bin", Piece)));
        var forOnePiece = new BencodeDictionary();
        forOnePiece.Add(new BencodeString(root.ToArray()), good);
        forOnePiece.Add(new BencodeString(oneRoot.ToArray()), new BencodeString(oneRoot.ToArray()));
        Assert.Contains("'piece layers' has an entry for 'dir/one.bin', which is not longer than one piece (16384 bytes, pieces of 16384)", Reject(info, forOnePiece), StringComparison.Ordinal);

        var badKey = new BencodeDictionary();
        badKey.Add(new BencodeString(new byte[31]), good);
        Assert.Contains("'piece layers' has a key of 31 bytes, not a 32-byte pieces root", Reject(info, badKey), StringComparison.Ordinal);
    }

    [Fact]
    public void Made_torrents_reload_with_the_same_hashes_and_layers_for_v2_and_hybrid()
    {
        var content = Content("block", 50_000);
        foreach (var version in new[] { TorrentVersion.V2, TorrentVersion.Hybrid })
        {
            var made = TorrentCreator.CreateFromBytes("block.bin", content, new TorrentCreateOptions { Version = version, PieceLength = Piece });
            var loaded = TorrentMetainfo.Load(made.ToBytes());
            Assert.Equal(version, loaded.Info.Version);
            Assert.Equal(made.Info.InfoHashV2, loaded.Info.InfoHashV2);
            Assert.Equal(MerkleTree.FileRoot(MerkleTree.HashBlocks(content)), loaded.Info.FileTree.Single().PiecesRoot);
            Assert.Equal(MerkleTree.PieceLayer(MerkleTree.HashBlocks(content), Piece), loaded.PieceLayers.Single().Value.ToArray());
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => TorrentCreator.CreateFromBytes("x", content, new TorrentCreateOptions { Version = TorrentVersion.V2, PieceLength = 20_000 }));
    }

    [Fact]
    public async Task Sessions_take_v2_only_and_hybrid_torrents_under_their_wire_hashes()
    {
        var v2 = TorrentCreator.CreateFromBytes("b", new byte[10], new TorrentCreateOptions { Version = TorrentVersion.V2 });
        var hybrid = TorrentCreator.CreateFromBytes("b", new byte[10], new TorrentCreateOptions { Version = TorrentVersion.Hybrid });
        await using var client = new TorrentClient(new TorrentClientOptions());
        Assert.Equal(v2.Info.InfoHashV2!.Value.Truncated, client.Add(v2, Path.GetTempPath()).InfoHash);
        var session = client.Add(hybrid, Path.GetTempPath());
        Assert.Equal(hybrid.Info.InfoHashV1, session.InfoHash);
        Assert.Equal(hybrid.Info.InfoHashV2!.Value.Truncated, session.InfoHashV2Truncated);
    }

    [Fact]
    public void V1_pad_files_of_the_same_size_may_repeat_their_path()
    {
        var info = WithV1(new BencodeDictionary { ["name"] = "dir", ["piece length"] = (long)Piece },
            ("a", 100, false), (".pad/16284", 16284, true), ("b", 100, false), (".pad/16284", 16284, true), ("c", 1, false));
        Assert.Equal(5, Load(info, null).Info.Files.Count);
    }
}
