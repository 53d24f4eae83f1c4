using System.Globalization;
using Testbed.Torrent.Tests.Metainfo;
using Xunit.Abstractions;

namespace Testbed.Torrent.Tests.Interop;

/// <summary>
/// BEP 52 transfers with libtorrent 2.0 (python3-libtorrent) over loopback: hybrid and v2-only multi-file torrents made by
/// libtorrent, and by us, go byte for byte from our seeder into libtorrent and from libtorrent's seeder into ours.
/// </summary>
public sealed class LibtorrentV2TransferTests(ITestOutputHelper log)
{
    private const int PieceLength = 32 * 1024;

    [Theory]
    [InlineData("libtorrent", TorrentVersion.V2)]
    [InlineData("libtorrent", TorrentVersion.Hybrid)]
    [InlineData("us", TorrentVersion.V2)]
    [InlineData("us", TorrentVersion.Hybrid)]
    public async Task A_torrent_made_by_libtorrent_or_by_us_goes_from_our_seeder_into_libtorrent(string maker, TorrentVersion version)
    {
        using var t = new TestTorrents();
        var (torrent, torrentFile, seedDir) = maker == "us" ? await MakeOurselvesAsync(t, version) : await MakeWithLibtorrentAsync(t, version);
        var seed = await ExternalClientTests.LibtorrentDownloadsFromUsAsync(t, torrent, seedDir, torrentFile, log);
        Assert.True(seed.Progress.BytesUploaded >= torrent.Info.FileTree.Sum(f => f.Length));
    }

    [Theory]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task A_torrent_made_by_libtorrent_goes_from_a_libtorrent_seeder_into_ours(TorrentVersion version)
    {
        using var t = new TestTorrents();
        var (torrent, _, seedDir) = await MakeWithLibtorrentAsync(t, version);
        var get = await ExternalClientTests.WeDownloadFromLibtorrentAsync(t, torrent, seedDir, (leecher, getDir) => leecher.Add(torrent, getDir, new TorrentSessionOptions { UseTrackers = false }));
        Assert.Equal(0, get.Progress.Banned);
    }

    [Theory]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task A_v2_magnet_link_fetches_metadata_and_piece_layers_from_a_libtorrent_seeder(TorrentVersion version)
    {
        using var t = new TestTorrents();
        var (torrent, _, seedDir) = await MakeWithLibtorrentAsync(t, version);
        var v2 = MagnetLink.FromMetainfo(torrent).InfoHashV2!.Value;

        // Only the v2 half of the link: the truncated v2 hash on the wire, SHA-256 for the metadata, layers by hash request.
        var get = await ExternalClientTests.WeDownloadFromLibtorrentAsync(t, torrent, seedDir,
            (leecher, getDir) => leecher.AddMagnet(v2.Truncated, getDir, new TorrentSessionOptions { UseTrackers = false }, infoHashV2: v2));
        Assert.True(get.Layout!.HasMerkle);
        Assert.Equal(0, get.Progress.Banned);
    }

    [Fact]
    public async Task Libtorrent_fetches_a_v2_magnet_link_from_our_seeder_asking_us_for_the_piece_layers()
    {
        using var t = new TestTorrents();
        var (torrent, _, seedDir) = await MakeWithLibtorrentAsync(t, TorrentVersion.V2);
        var seed = await ExternalClientTests.LibtorrentDownloadsFromUsAsync(t, torrent, seedDir, MagnetLink.FromMetainfo(torrent).ToString(), log);
        // The two files longer than a piece: libtorrent asked us for their piece layers, and every answer was hashes.
        Assert.True(seed.HashRequestsAnswered >= 2, $"{seed.HashRequestsAnswered} answered, {seed.HashRequestsRejected} rejected");
    }

    // libtorrent makes the torrent from files around the BEP 52 edge cases (several pieces, exactly one, less than a block, empty).
    // A v2-only torrent is libtorrent's mode "v2", a hybrid one its mode "hybrid".
    private static async Task<(TorrentMetainfo Torrent, string TorrentFile, string SeedDir)> MakeWithLibtorrentAsync(TestTorrents t, TorrentVersion version)
    {
        var mode = version == TorrentVersion.V2 ? "v2" : "hybrid";
        var seedDir = t.NewDirectory("seed");
        var root = Path.Combine(seedDir, "bundle");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        await File.WriteAllBytesAsync(Path.Combine(root, "a.bin"), TestTorrents.RandomBytes(100_000, 1));
        await File.WriteAllBytesAsync(Path.Combine(root, "one-piece.bin"), TestTorrents.RandomBytes(PieceLength, 2));
        await File.WriteAllBytesAsync(Path.Combine(root, "sub", "b.txt"), TestTorrents.RandomBytes(17, 3));
        await File.WriteAllBytesAsync(Path.Combine(root, "sub", "empty"), []);
        await File.WriteAllBytesAsync(Path.Combine(root, "z.bin"), TestTorrents.RandomBytes(150_001, 4));
        var torrentFile = Path.Combine(t.Root, $"lt-{mode}.torrent");
        using var created = await LibtorrentScript.RunAsync(LibtorrentV2InteropTests.CreateScript, root, torrentFile, mode, PieceLength.ToString(CultureInfo.InvariantCulture));
        var torrent = await TorrentMetainfo.LoadFileAsync(torrentFile);
        Assert.Equal(version, torrent.Info.Version);
        return (torrent, torrentFile, seedDir);
    }

    // The same sizes made into a torrent by us, and its torrent file written for libtorrent.
    private static async Task<(TorrentMetainfo Torrent, string TorrentFile, string SeedDir)> MakeOurselvesAsync(TestTorrents t, TorrentVersion version)
    {
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateMultiFileAsync(seedDir, "ours", [100_000, PieceLength, 17, 0, 150_001], PieceLength, version: version);
        return (torrent, await ExternalClientTests.WriteTorrentAsync(t, torrent), seedDir);
    }
}
