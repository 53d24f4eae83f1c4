using System.Globalization;
using Testbed.Processes;
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
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("v2", TorrentVersion.V2)]
    [InlineData("hybrid", TorrentVersion.Hybrid)]
    public async Task A_torrent_made_by_libtorrent_goes_from_our_seeder_into_libtorrent(string mode, TorrentVersion version)
    {
        using var t = new TestTorrents();
        var (torrent, torrentFile, seedDir) = await MakeWithLibtorrentAsync(t, mode);
        Assert.Equal(version, torrent.Info.Version);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent, seedDir, new TorrentSessionOptions { ReadOnly = true, UseTrackers = false });
        await LibtorrentDownloadsAsync(t, torrent, torrentFile, seeder, seed, seedDir);
    }

    [Theory]
    [InlineData("v2", TorrentVersion.V2)]
    [InlineData("hybrid", TorrentVersion.Hybrid)]
    public async Task A_torrent_made_by_libtorrent_goes_from_a_libtorrent_seeder_into_ours(string mode, TorrentVersion version)
    {
        using var t = new TestTorrents();
        var (torrent, _, seedDir) = await MakeWithLibtorrentAsync(t, mode);
        Assert.Equal(version, torrent.Info.Version);
        var (process, port) = await ExternalClientTests.StartLibtorrentSeederAsync(t, torrent, seedDir);
        using var lt = process;

        var getDir = t.NewDirectory("get");
        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent, getDir, new TorrentSessionOptions { UseTrackers = false });
        get.AddPeer(new IPEndPoint(IPAddress.Loopback, port));
        await ExternalClientTests.WaitCompleteAsync(get, () => lt.Output);
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getDir);
        Assert.Equal(0, get.Progress.Banned);
    }

    [Theory]
    [InlineData("v2")]
    [InlineData("hybrid")]
    public async Task A_v2_magnet_link_fetches_metadata_and_piece_layers_from_a_libtorrent_seeder(string mode)
    {
        using var t = new TestTorrents();
        var (torrent, _, seedDir) = await MakeWithLibtorrentAsync(t, mode);
        var magnet = MagnetLink.FromMetainfo(torrent);
        var (process, port) = await ExternalClientTests.StartLibtorrentSeederAsync(t, torrent, seedDir);
        using var lt = process;

        // Only the v2 half of the link: the truncated v2 hash on the wire, SHA-256 for the metadata, layers by hash request.
        var getDir = t.NewDirectory("get");
        await using var leecher = TestTorrents.NewClient();
        var get = leecher.AddMagnet(magnet.InfoHashV2!.Value.Truncated, getDir, new TorrentSessionOptions { UseTrackers = false }, infoHashV2: magnet.InfoHashV2);
        await get.StartAsync();
        get.AddPeer(new IPEndPoint(IPAddress.Loopback, port));
        await ExternalClientTests.WaitCompleteAsync(get, () => lt.Output);
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getDir);
        Assert.True(get.Layout!.HasMerkle);
        Assert.Equal(0, get.Progress.Banned);
    }


    [Fact]
    public async Task Libtorrent_fetches_a_v2_magnet_link_from_our_seeder_asking_us_for_the_piece_layers()
    {
        using var t = new TestTorrents();
        var (torrent, _, seedDir) = await MakeWithLibtorrentAsync(t, "v2");
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent, seedDir, new TorrentSessionOptions { ReadOnly = true, UseTrackers = false });

        var getDir = t.NewDirectory("get");
        var script = await ExternalClientTests.WriteScriptAsync(t, "magnet.py", LibtorrentScripts.Download);
        using var lt = ChildProcess.Start(LibtorrentScripts.Python, [script, MagnetLink.FromMetainfo(torrent).ToString(), getDir, "127.0.0.1", seeder.LocalEndPoint!.Port.ToString(CultureInfo.InvariantCulture), "80"]);
        var exited = await lt.WaitForExitAsync(Bound);
        log.WriteLine(lt.Output);
        Assert.True(exited && lt.ExitCode == 0, $"libtorrent did not complete: {lt.Output}; our seeder: {seed.Progress} {seed.LastDisconnectReason}");
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getDir);
        // The two files longer than a piece: libtorrent asked us for their piece layers, and every answer was hashes.
        Assert.True(seed.HashRequestsAnswered >= 2, $"{seed.HashRequestsAnswered} answered, {seed.HashRequestsRejected} rejected");
    }

    [Theory]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task A_torrent_made_by_us_goes_from_our_seeder_into_libtorrent(TorrentVersion version)
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateMultiFileAsync(seedDir, "ours", [100_000, PieceLength, 17, 0, 150_001], PieceLength, version: version);
        var torrentFile = await ExternalClientTests.WriteTorrentAsync(t, torrent);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent, seedDir, new TorrentSessionOptions { ReadOnly = true, UseTrackers = false });
        await LibtorrentDownloadsAsync(t, torrent, torrentFile, seeder, seed, seedDir);
    }

    private async Task LibtorrentDownloadsAsync(TestTorrents t, TorrentMetainfo torrent, string torrentFile, TorrentClient seeder, TorrentSession seed, string seedDir)
    {
        var getDir = t.NewDirectory("get");
        var script = await ExternalClientTests.WriteScriptAsync(t, "download.py", LibtorrentScripts.Download);
        using var lt = ChildProcess.Start(LibtorrentScripts.Python, [script, torrentFile, getDir, "127.0.0.1", seeder.LocalEndPoint!.Port.ToString(CultureInfo.InvariantCulture), "80"]);
        var exited = await lt.WaitForExitAsync(Bound);
        log.WriteLine(lt.Output);
        Assert.True(exited && lt.ExitCode == 0, $"libtorrent did not complete: {lt.Output}; our seeder: {seed.Progress} {seed.LastDisconnectReason} {seed.LastStorageError}");
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getDir);
        Assert.True(seed.Progress.BytesUploaded >= torrent.Info.FileTree.Sum(f => f.Length));
    }

    // libtorrent makes the torrent from files around the BEP 52 edge cases (several pieces, exactly one, less than a block, empty).
    private static async Task<(TorrentMetainfo Torrent, string TorrentFile, string SeedDir)> MakeWithLibtorrentAsync(TestTorrents t, string mode)
    {
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
        return (await TorrentMetainfo.LoadFileAsync(torrentFile), torrentFile, seedDir);
    }
}
