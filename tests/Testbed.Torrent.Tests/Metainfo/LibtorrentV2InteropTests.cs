using System.Text.Json;

namespace Testbed.Torrent.Tests.Metainfo;

/// <summary>BEP 52 metainfo interop with libtorrent 2.0 (python3-libtorrent): v2-only and hybrid torrents, same hashes both ways.</summary>
public sealed class LibtorrentV2InteropTests : IDisposable
{
    // Two blocks per piece, so piece layers sit above the leaves and padding appears at several heights.
    private const int PieceLength = 32768;

    // Prints what libtorrent says about a torrent: both info hashes, the real (non-pad) files with their pieces roots.
    internal const string Describe = """
        def describe(ti):
            ih = ti.info_hashes()
            fs = ti.files()
            return {
                "v1": str(ih.v1) if ih.has_v1() else None,
                "v2": str(ih.v2) if ih.has_v2() else None,
                "pieces": ti.num_pieces(),
                "files": [[fs.file_path(i).replace("\\", "/"), fs.file_size(i), str(fs.root(i))]
                          for i in range(fs.num_files()) if not fs.file_flags(i) & lt.file_storage.flag_pad_file],
            }
        """;

    internal const string CreateScript = "import json, os, sys\nimport libtorrent as lt\n" + Describe + "\n" + """
        path, out, mode, piece_length = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
        fs = lt.file_storage()
        lt.add_files(fs, path)
        ct = lt.create_torrent(fs, piece_length, flags=lt.create_torrent.v2_only if mode == "v2" else 0)
        lt.set_piece_hashes(ct, os.path.dirname(path))
        open(out, "wb").write(lt.bencode(ct.generate()))
        print(json.dumps(describe(lt.torrent_info(out))))
        """;

    // Loads a torrent, then lets a session check the files on disk against it (v2 pieces against the piece layers).
    private const string LoadAndCheckScript = "import json, sys, time\nimport libtorrent as lt\n" + Describe + "\n" + """
        torrent, save_path = sys.argv[1], sys.argv[2]
        ti = lt.torrent_info(torrent)
        result = describe(ti)
        """ + "\n" + LibtorrentScript.VerifyOnDiskAndPrint;

    private readonly string _directory = Directory.CreateTempSubdirectory("lt-v2-interop-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("v2", TorrentVersion.V2)]
    [InlineData("hybrid", TorrentVersion.Hybrid)]
    public async Task Torrents_made_by_libtorrent_load_with_the_same_info_hashes_and_pieces_roots(string mode, TorrentVersion version)
    {
        var content = await WriteContentAsync();
        var torrentFile = Path.Combine(_directory, "lt.torrent");

        using var created = await LibtorrentScript.RunAsync(CreateScript, content, torrentFile, mode, PieceLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var theirs = created.RootElement;
        var ours = await TorrentMetainfo.LoadFileAsync(torrentFile);

        Assert.Equal(version, ours.Info.Version);
        Assert.Equal(theirs.GetProperty("v2").GetString(), ours.Info.InfoHashV2?.ToHex());
        Assert.Equal(theirs.GetProperty("v1").GetString(), ours.Info.InfoHashV1?.ToHex());
        // The 20-byte hash used on the wire: v1 for a hybrid, the truncated v2 hash otherwise.
        Assert.Equal(version == TorrentVersion.V2 ? theirs.GetProperty("v2").GetString()![..40] : theirs.GetProperty("v1").GetString(), ours.InfoHash.ToHex());
        Assert.Equal(FilesOf(theirs), ours.Info.FileTree.Select(f => $"{f.RelativePath}:{f.Length}:{f.PiecesRoot?.ToHex() ?? new string('0', 64)}"));
        Assert.Equal(theirs.GetProperty("pieces").GetInt32(), ours.Info.PieceCount);
        // Our merkle code, run over the files on disk, gives the roots and layers libtorrent wrote.
        foreach (var file in ours.Info.FileTree.Where(f => f.Length > 0))
        {
            var leaves = MerkleTree.HashBlocks(await File.ReadAllBytesAsync(file.GetFullPath(_directory)));
            Assert.Equal(file.PiecesRoot, MerkleTree.FileRoot(leaves));
            if (file.Length > PieceLength)
            {
                Assert.Equal(MerkleTree.PieceLayer(leaves, PieceLength), ours.PieceLayers[file.PiecesRoot!.Value].ToArray());
            }
        }
    }

    [Theory]
    [InlineData(TorrentVersion.V2, "v2")]
    [InlineData(TorrentVersion.Hybrid, "hybrid")]
    public async Task Torrents_made_by_us_load_in_libtorrent_with_the_same_hashes_and_verify_against_the_data(TorrentVersion version, string mode)
    {
        var content = await WriteContentAsync();
        var ours = await TorrentCreator.CreateFromPathAsync(content, new TorrentCreateOptions { PieceLength = PieceLength, Version = version });
        var torrentFile = Path.Combine(_directory, "ours.torrent");
        await File.WriteAllBytesAsync(torrentFile, ours.ToBytes());

        using var loaded = await LibtorrentScript.RunAsync(LoadAndCheckScript, torrentFile, _directory);
        var theirs = loaded.RootElement;

        Assert.Equal(ours.Info.InfoHashV2?.ToHex(), theirs.GetProperty("v2").GetString());
        Assert.Equal(ours.Info.InfoHashV1?.ToHex(), theirs.GetProperty("v1").GetString());
        Assert.Equal(FilesOf(theirs), ours.Info.FileTree.Select(f => $"{f.RelativePath}:{f.Length}:{f.PiecesRoot?.ToHex() ?? new string('0', 64)}"));
        // libtorrent hashed the files on disk and found every piece good against our piece layers (and v1 hashes).
        Assert.Equal(theirs.GetProperty("pieces").GetInt32(), theirs.GetProperty("verified_pieces").GetInt32());
        Assert.Equal(ours.Info.PieceCount, theirs.GetProperty("pieces").GetInt32());

        // libtorrent, given the same files and piece length, makes the very same info dictionary.
        using var created = await LibtorrentScript.RunAsync(CreateScript, content, Path.Combine(_directory, "lt.torrent"), mode, PieceLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(created.RootElement.GetProperty("v2").GetString(), ours.Info.InfoHashV2?.ToHex());
        Assert.Equal(created.RootElement.GetProperty("v1").GetString(), ours.Info.InfoHashV1?.ToHex());
    }

    private static IEnumerable<string> FilesOf(JsonElement described) =>
        described.GetProperty("files").EnumerateArray().Select(f => $"{f[0].GetString()}:{f[1].GetInt64()}:{f[2].GetString()}").ToList();

    // Files around the BEP 52 edge cases: several pieces (c.dat: 10 blocks, 5 pieces, so padded leaves and padded
    // pieces), exactly one piece, less than one block, empty, nested.
    private async Task<string> WriteContentAsync()
    {
        var random = new Random(52);
        byte[] Bytes(int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }

        var root = Path.Combine(_directory, "bundle");
        Directory.CreateDirectory(Path.Combine(root, "sub", "deeper"));
        await File.WriteAllBytesAsync(Path.Combine(root, "a.bin"), Bytes(50_000));
        await File.WriteAllBytesAsync(Path.Combine(root, "one-piece.bin"), Bytes(PieceLength));
        await File.WriteAllBytesAsync(Path.Combine(root, "sub", "b.txt"), Bytes(17));
        await File.WriteAllBytesAsync(Path.Combine(root, "sub", "empty"), []);
        await File.WriteAllBytesAsync(Path.Combine(root, "sub", "deeper", "c.dat"), Bytes(150_000));
        await File.WriteAllBytesAsync(Path.Combine(root, "z.bin"), Bytes(70_000));
        return root;
    }
}
