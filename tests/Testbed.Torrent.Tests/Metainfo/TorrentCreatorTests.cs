using System.Security.Cryptography;

namespace Testbed.Torrent.Tests.Metainfo;

public sealed class TorrentCreatorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("torrent-create-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task Single_file_pieces_hash_the_content()
    {
        var content = RandomBytes(100_000, 1);
        var path = Path.Combine(_directory, "data.bin");
        await File.WriteAllBytesAsync(path, content);
        var options = new TorrentCreateOptions { TrackerTiers = TorrentCreateOptions.OneTierEach(["http://127.0.0.1:1/announce"]), PieceLength = 32768 };

        var torrent = await TorrentCreator.CreateFromPathAsync(path, options);

        Assert.Equal("data.bin", torrent.Info.Name);
        Assert.False(torrent.Info.IsMultiFile);
        Assert.Equal(4, torrent.Info.PieceCount);
        for (var piece = 0; piece < 4; piece++)
        {
            var start = piece * 32768;
            Assert.Equal(SHA1.HashData(content.AsSpan(start, Math.Min(32768, content.Length - start))), torrent.Info.GetPieceHash(piece).ToArray());
        }

        Assert.Equal("http://127.0.0.1:1/announce", torrent.Announce);
        var reloaded = TorrentMetainfo.Load(torrent.ToBytes());
        Assert.Equal(torrent.InfoHash, reloaded.InfoHash);
        Assert.Equal(torrent.InfoHash, TorrentCreator.CreateFromBytes("data.bin", content, options).InfoHash);
    }

    [Fact]
    public async Task Directory_gives_multi_file_layout_with_pieces_across_file_boundaries()
    {
        var root = Path.Combine(_directory, "set");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        var a = RandomBytes(10_000, 2);
        var b = RandomBytes(30_000, 3);
        var c = RandomBytes(0, 4);
        await File.WriteAllBytesAsync(Path.Combine(root, "b.bin"), a);
        await File.WriteAllBytesAsync(Path.Combine(root, "sub", "c.bin"), b);
        await File.WriteAllBytesAsync(Path.Combine(root, "a-empty"), c);

        var torrent = await TorrentCreator.CreateFromPathAsync(root, new TorrentCreateOptions { PieceLength = 16384 });

        Assert.True(torrent.Info.IsMultiFile);
        Assert.Equal("set", torrent.Info.Name);
        Assert.Equal(["set/a-empty", "set/b.bin", "set/sub/c.bin"], torrent.Info.Files.Select(f => f.RelativePath));
        var all = a.Concat(b).ToArray();
        Assert.Equal(all.Length, torrent.Info.TotalLength);
        Assert.Equal(3, torrent.Info.PieceCount);
        Assert.Equal(SHA1.HashData(all.AsSpan(0, 16384)), torrent.Info.GetPieceHash(0).ToArray());
        Assert.Equal(SHA1.HashData(all.AsSpan(32768)), torrent.Info.GetPieceHash(2).ToArray());
        Assert.Null(torrent.Announce);
    }

    [Fact]
    public async Task Same_input_gives_same_bytes_when_no_creation_date()
    {
        var path = Path.Combine(_directory, "x");
        await File.WriteAllBytesAsync(path, RandomBytes(1000, 5));
        var first = await TorrentCreator.CreateFromPathAsync(path, new TorrentCreateOptions());
        var second = await TorrentCreator.CreateFromPathAsync(path, new TorrentCreateOptions());
        Assert.Equal(first.ToBytes(), second.ToBytes());
    }

    [Theory]
    [InlineData(0L, 16384)]
    [InlineData(1_000_000L, 16384)]
    [InlineData(256L << 20, 262144)]
    [InlineData(100L << 30, 16 << 20)]
    public void Automatic_piece_length_scales_with_size(long total, int expected) =>
        Assert.Equal(expected, TorrentCreator.AutomaticPieceLength(total));

    [Fact]
    public async Task Missing_path_and_empty_directory_are_clear_errors()
    {
        await Assert.ThrowsAsync<FileNotFoundException>(() => TorrentCreator.CreateFromPathAsync(Path.Combine(_directory, "nope"), new TorrentCreateOptions()));
        var empty = Directory.CreateDirectory(Path.Combine(_directory, "empty")).FullName;
        var error = await Assert.ThrowsAsync<MetainfoException>(() => TorrentCreator.CreateFromPathAsync(empty, new TorrentCreateOptions()));
        Assert.Contains("holds no files", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Creation_fields_are_written()
    {
        var path = Path.Combine(_directory, "y");
        await File.WriteAllBytesAsync(path, RandomBytes(10, 6));
        var date = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var torrent = await TorrentCreator.CreateFromPathAsync(path, new TorrentCreateOptions { Comment = "hi", CreationDate = date, IsPrivate = true, TrackerTiers = [["http://a/announce", "http://b/announce"], ["udp://c:1"]] });
        Assert.Equal("hi", torrent.Comment);
        Assert.Equal(date, torrent.CreationDate);
        Assert.True(torrent.Info.IsPrivate);
        Assert.Equal("testbed", torrent.CreatedBy);
        Assert.Equal("http://a/announce", torrent.Announce);
        Assert.Equal(2, torrent.AnnounceList.Count);
    }
}
