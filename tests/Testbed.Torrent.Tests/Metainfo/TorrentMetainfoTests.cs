using System.Security.Cryptography;
using System.Text;
using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Tests.Metainfo;

public sealed class TorrentMetainfoTests
{
    private static BencodeDictionary SingleInfo(long length = 5, int pieceLength = 4) => new()
    {
        ["name"] = "file.bin",
        ["piece length"] = pieceLength,
        ["length"] = length,
        ["pieces"] = new byte[(int)((length + pieceLength - 1) / pieceLength) * 20],
    };

    private static BencodeDictionary MultiInfo(params BencodeList[] paths)
    {
        var files = new BencodeList();
        foreach (var path in paths)
        {
            files.Add(new BencodeDictionary { ["length"] = 3L, ["path"] = path });
        }

        return new BencodeDictionary
        {
            ["name"] = "dir",
            ["piece length"] = 4L,
            ["files"] = files,
            ["pieces"] = new byte[((paths.Length * 3) + 3) / 4 * 20],
        };
    }

    private static TorrentMetainfo LoadWith(BencodeDictionary info, string? announce = "http://t/announce")
    {
        var dictionary = new BencodeDictionary { ["info"] = info };
        if (announce is not null)
        {
            dictionary["announce"] = announce;
        }

        return TorrentMetainfo.Load(dictionary.Encode());
    }

    private static string Reject(BencodeDictionary info) => Assert.Throws<MetainfoException>(() => LoadWith(info)).Message;

    [Fact]
    public void Loads_single_file_layout()
    {
        var torrent = LoadWith(SingleInfo(length: 9, pieceLength: 4));
        Assert.False(torrent.Info.IsMultiFile);
        Assert.Equal("file.bin", torrent.Info.Name);
        Assert.Equal(9, torrent.Info.TotalLength);
        Assert.Equal(3, torrent.Info.PieceCount);
        Assert.Equal(4, torrent.Info.GetPieceSize(0));
        Assert.Equal(1, torrent.Info.GetPieceSize(2));
        Assert.Equal(["file.bin"], torrent.Info.Files.Single().Path);
        Assert.Equal("http://t/announce", torrent.Announce);
        Assert.Equal([["http://t/announce"]], torrent.TrackerTiers);
    }

    [Fact]
    public void Loads_multi_file_layout_with_offsets()
    {
        var torrent = LoadWith(MultiInfo(new BencodeList { "a.txt" }, new BencodeList { "sub", "b.txt" }));
        Assert.True(torrent.Info.IsMultiFile);
        Assert.Equal(6, torrent.Info.TotalLength);
        Assert.Equal(["dir", "sub", "b.txt"], torrent.Info.Files[1].Path);
        Assert.Equal(3, torrent.Info.Files[1].Offset);
        Assert.Equal("dir/sub/b.txt", torrent.Info.Files[1].RelativePath);
    }

    [Fact]
    public void Info_hash_is_sha1_of_the_info_bytes_as_received_even_with_unknown_keys()
    {
        var info = SingleInfo();
        info["x-unknown"] = new BencodeList { 1L, "two" };
        var infoBytes = info.Encode();
        var file = Encoding.Latin1.GetBytes("d8:announce3:abc4:info").Concat(infoBytes).Concat("e"u8.ToArray()).ToArray();
        var torrent = TorrentMetainfo.Load(file);
        Assert.Equal(SHA1.HashData(infoBytes), torrent.InfoHash.ToArray());
        Assert.Equal(infoBytes, torrent.Info.RawBytes.ToArray());
        Assert.Equal(file, torrent.ToBytes());
    }

    [Fact]
    public void Reads_announce_list_tiers()
    {
        var dictionary = new BencodeDictionary
        {
            ["announce"] = "http://a/announce",
            ["announce-list"] = new BencodeList { new BencodeList { "http://a/announce", "udp://b:1" }, new BencodeList { "http://c/announce" } },
            ["info"] = SingleInfo(),
        };
        var torrent = TorrentMetainfo.Load(dictionary.Encode());
        Assert.Equal(2, torrent.TrackerTiers.Count);
        Assert.Equal(["http://a/announce", "udp://b:1"], torrent.TrackerTiers[0]);
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("/etc")]
    [InlineData("C:")]
    [InlineData("x\0y")]
    public void Rejects_unsafe_path_segments(string segment)
    {
        Assert.Contains("unsafe", Reject(MultiInfo(new BencodeList { "ok", segment })), StringComparison.Ordinal);
        var single = SingleInfo();
        single["name"] = segment;
        Assert.Contains("unsafe", Reject(single), StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_bad_layouts()
    {
        Assert.Contains("empty 'path'", Reject(MultiInfo(new BencodeList())), StringComparison.Ordinal);
        Assert.Contains("repeats the path", Reject(MultiInfo(new BencodeList { "a" }, new BencodeList { "a" })), StringComparison.Ordinal);
        Assert.Contains("both a file and a directory", Reject(MultiInfo(new BencodeList { "a" }, new BencodeList { "a", "b" })), StringComparison.Ordinal);

        var both = SingleInfo();
        both["files"] = new BencodeList();
        Assert.Contains("both 'length' and 'files'", Reject(both), StringComparison.Ordinal);

        var negative = SingleInfo();
        negative["length"] = -1L;
        Assert.Contains("negative", Reject(negative), StringComparison.Ordinal);

        var badPieces = SingleInfo();
        badPieces["pieces"] = new byte[21];
        Assert.Contains("not a multiple of 20", Reject(badPieces), StringComparison.Ordinal);

        var wrongCount = SingleInfo();
        wrongCount["pieces"] = new byte[60];
        Assert.Contains("holds 3 hashes", Reject(wrongCount), StringComparison.Ordinal);

        var zeroPiece = SingleInfo();
        zeroPiece["piece length"] = 0L;
        Assert.Contains("piece length 0", Reject(zeroPiece), StringComparison.Ordinal);

        var noName = SingleInfo();
        noName.Remove("name");
        Assert.Contains("no 'name'", Reject(noName), StringComparison.Ordinal);

        var wrongType = SingleInfo();
        wrongType["length"] = "5";
        Assert.Contains("key 'length' holds a byte string", Reject(wrongType), StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_non_bencode_and_non_canonical_input()
    {
        Assert.Contains("not a valid .torrent", Assert.Throws<MetainfoException>(() => TorrentMetainfo.Load("garbage"u8.ToArray())).Message, StringComparison.Ordinal);
        Assert.Contains("no 'info'", Assert.Throws<MetainfoException>(() => TorrentMetainfo.Load("de"u8.ToArray())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pad_files_are_marked()
    {
        var info = MultiInfo(new BencodeList { "a" }, new BencodeList { ".pad", "1" });
        ((BencodeDictionary)info.Require<BencodeList>("files")[1])["attr"] = "p";
        var torrent = LoadWith(info);
        Assert.False(torrent.Info.Files[0].IsPadding);
        Assert.True(torrent.Info.Files[1].IsPadding);
    }

    [Fact]
    public async Task Load_file_names_the_file_in_errors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.torrent");
        await File.WriteAllBytesAsync(path, "d4:infoi1ee"u8.ToArray());
        try
        {
            var error = await Assert.ThrowsAsync<MetainfoException>(() => TorrentMetainfo.LoadFileAsync(path));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
