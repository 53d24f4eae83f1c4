using System.Security.Cryptography;

namespace Testbed.Torrent.Tests.Metainfo;

/// <summary>Metainfo interop with libtorrent 2.0 (Debian's python3-libtorrent): same info hashes both ways.</summary>
public sealed class LibtorrentInteropTests : IDisposable
{
    private const string CreateScript = """
        import json, os, sys
        import libtorrent as lt
        path, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
        fs = lt.file_storage()
        lt.add_files(fs, path)
        flags = lt.create_torrent.v1_only if mode == "v1" else 0
        ct = lt.create_torrent(fs, 16384, flags=flags)
        ct.add_tracker("http://127.0.0.1:6969/announce")
        lt.set_piece_hashes(ct, os.path.dirname(path))
        open(out, "wb").write(lt.bencode(ct.generate()))
        ti = lt.torrent_info(out)
        print(json.dumps({"infohash": str(ti.info_hashes().v1)}))
        """;

    private const string LoadAndCheckScript = """
        import json, sys, time
        import libtorrent as lt
        torrent, save_path = sys.argv[1], sys.argv[2]
        ti = lt.torrent_info(torrent)
        files = ti.files()
        result = {
            "infohash": str(ti.info_hashes().v1),
            "name": ti.name(),
            "pieces": ti.num_pieces(),
            "piece_length": ti.piece_length(),
            "total": ti.total_size(),
            "files": [[files.file_path(i).replace("\\", "/"), files.file_size(i)] for i in range(files.num_files())],
            "trackers": [t.url for t in ti.trackers()],
        }
        """ + "\n" + LibtorrentScript.VerifyOnDiskAndPrint;

    private readonly string _directory = Directory.CreateTempSubdirectory("lt-interop-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("v1", false)]
    [InlineData("v1", true)]
    [InlineData("hybrid", false)]
    [InlineData("hybrid", true)]
    public async Task Torrents_made_by_libtorrent_load_with_the_same_info_hash_and_layout(string mode, bool multiFile)
    {
        var content = await WriteContentAsync(multiFile);
        var torrentFile = Path.Combine(_directory, "lt.torrent");

        using var created = await LibtorrentScript.RunAsync(CreateScript, content, torrentFile, mode);
        var ours = await TorrentMetainfo.LoadFileAsync(torrentFile);

        Assert.Equal(created.RootElement.GetProperty("infohash").GetString(), ours.InfoHash.ToHex());
        Assert.Equal(multiFile, ours.Info.IsMultiFile);
        Assert.Equal("http://127.0.0.1:6969/announce", ours.Announce);
        // Our layout (pad files read as zeros) must reproduce every piece hash libtorrent wrote.
        AssertPiecesMatchDisk(ours, _directory);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Torrents_made_by_us_load_in_libtorrent_with_the_same_info_hash_and_verify_against_the_data(bool multiFile)
    {
        var content = await WriteContentAsync(multiFile);
        var ours = await TorrentCreator.CreateFromPathAsync(content, new TorrentCreateOptions
        {
            PieceLength = 32768,
            TrackerTiers = [["http://127.0.0.1:6969/announce"], ["udp://127.0.0.1:6969"]],
            CreationDate = DateTimeOffset.UtcNow,
        });
        var torrentFile = Path.Combine(_directory, "ours.torrent");
        await File.WriteAllBytesAsync(torrentFile, ours.ToBytes());

        using var loaded = await LibtorrentScript.RunAsync(LoadAndCheckScript, torrentFile, _directory);
        var root = loaded.RootElement;

        Assert.Equal(ours.InfoHash.ToHex(), root.GetProperty("infohash").GetString());
        Assert.Equal(ours.Info.Name, root.GetProperty("name").GetString());
        Assert.Equal(ours.Info.PieceCount, root.GetProperty("pieces").GetInt32());
        Assert.Equal(ours.Info.TotalLength, root.GetProperty("total").GetInt64());
        Assert.Equal(
            ours.Info.Files.Select(f => $"{f.RelativePath}:{f.Length}"),
            root.GetProperty("files").EnumerateArray().Select(f => $"{f[0].GetString()}:{f[1].GetInt64()}"));
        Assert.Equal(["http://127.0.0.1:6969/announce", "udp://127.0.0.1:6969"], root.GetProperty("trackers").EnumerateArray().Select(t => t.GetString()));
        // libtorrent checked the files on disk against our piece hashes and found every piece good.
        Assert.Equal(ours.Info.PieceCount, root.GetProperty("verified_pieces").GetInt32());
    }

    private static void AssertPiecesMatchDisk(TorrentMetainfo torrent, string saveDirectory)
    {
        var data = new MemoryStream();
        foreach (var file in torrent.Info.Files)
        {
            if (file.IsPadding)
            {
                data.Write(new byte[file.Length]);
            }
            else
            {
                data.Write(File.ReadAllBytes(file.GetFullPath(saveDirectory)));
            }
        }

        var bytes = data.ToArray();
        Assert.Equal(torrent.Info.TotalLength, bytes.Length);
        for (var piece = 0; piece < torrent.Info.PieceCount; piece++)
        {
            var start = piece * torrent.Info.PieceLength;
            Assert.Equal(torrent.Info.GetPieceHash(piece).ToArray(), SHA1.HashData(bytes.AsSpan(start, torrent.Info.GetPieceSize(piece))));
        }
    }

    private async Task<string> WriteContentAsync(bool multiFile)
    {
        var random = new Random(multiFile ? 11 : 12);
        byte[] Bytes(int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }

        if (!multiFile)
        {
            var file = Path.Combine(_directory, "single.bin");
            await File.WriteAllBytesAsync(file, Bytes(200_003));
            return file;
        }

        var root = Path.Combine(_directory, "bundle");
        Directory.CreateDirectory(Path.Combine(root, "sub", "deeper"));
        await File.WriteAllBytesAsync(Path.Combine(root, "a.bin"), Bytes(50_000));
        await File.WriteAllBytesAsync(Path.Combine(root, "sub", "b.txt"), Bytes(17));
        await File.WriteAllBytesAsync(Path.Combine(root, "sub", "deeper", "c.dat"), Bytes(100_000));
        await File.WriteAllBytesAsync(Path.Combine(root, "z.bin"), Bytes(40_000));
        return root;
    }
}
