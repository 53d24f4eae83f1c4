namespace Testbed.Torrent.Tests.Sessions;

/// <summary>Our client against itself over loopback: download, seed, resume, magnet, peer exchange.</summary>
public sealed class SwarmTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Downloads_a_multi_file_torrent_byte_for_byte()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var getDir = t.NewDirectory("get");
        var torrent = await t.CreateMultiFileAsync(seedDir, "multi", [100_000, 0, 300_001, 5, 65_536], 32 * 1024);

        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir);
        Assert.True(seed.IsComplete);

        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent.Info, getDir);
        Assert.False(get.IsComplete);
        get.AddPeer(seeder.LocalEndPoint!);
        await get.WaitForCompletionAsync().WaitAsync(Generous);

        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getDir);
        Assert.Equal(torrent.Info.TotalLength, get.Progress.BytesDownloaded);
        Assert.True(seed.Progress.BytesUploaded >= torrent.Info.TotalLength);
    }

    [Fact]
    public async Task A_verify_queue_of_one_piece_slows_the_reader_and_still_moves_every_byte()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "queued.bin", 3_000_000, 16 * 1024, seed: 5);

        await using var seeder = TestTorrents.NewClient();
        await seeder.AddStartedAsync(torrent.Info, seedDir);
        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent.Info, t.NewDirectory("get"), new TorrentSessionOptions { MaxVerifyingBytes = 1 });
        get.AddPeer(seeder.LocalEndPoint!);
        await get.WaitForCompletionAsync().WaitAsync(Generous);

        TestTorrents.AssertSameFiles(torrent.Info, seedDir, get.Directory);
        Assert.Equal(torrent.Info.PieceCount, get.Progress.PiecesHave);
    }

    [Fact]
    public async Task Disposing_a_session_mid_download_stops_its_verify_queue_and_returns()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "stopped.bin", 16_000_000, 16 * 1024, seed: 6);

        await using var seeder = TestTorrents.NewClient();
        await seeder.AddStartedAsync(torrent.Info, seedDir);
        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent.Info, t.NewDirectory("get"), new TorrentSessionOptions { MaxVerifyingBytes = 64 * 1024 });
        get.AddPeer(seeder.LocalEndPoint!);
        await WaitUntil(() => get.Progress.BytesDownloaded > 0, Generous);

        // Read loops may be waiting for room in the queue and its consumer may be mid-piece: stopping ends both.
        await get.DisposeAsync().AsTask().WaitAsync(Generous);
        Assert.True(get.Completion.IsCompleted);
    }

    [Fact]
    public async Task A_one_block_torrent_moves_quickly()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var getDir = t.NewDirectory("get");
        var torrent = await t.CreateSingleFileAsync(seedDir, "block.jwt", 3000, 16 * 1024);

        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir);
        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent.Info, getDir);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        get.AddPeer(seeder.LocalEndPoint!);
        await get.WaitForCompletionAsync().WaitAsync(Generous);
        clock.Stop();
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getDir);
    }

    [Fact]
    public async Task Resume_fetches_only_the_missing_pieces()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var getDir = t.NewDirectory("get");
        var pieceLength = 16 * 1024;
        var torrent = await t.CreateSingleFileAsync(seedDir, "data.bin", pieceLength * 20, pieceLength);

        // A partial download: the first half present and good, one piece of it corrupted.
        var content = await File.ReadAllBytesAsync(Path.Combine(seedDir, "data.bin"));
        var partial = content.AsSpan(0, pieceLength * 10).ToArray();
        partial[(pieceLength * 3) + 5] ^= 0xFF;
        await File.WriteAllBytesAsync(Path.Combine(getDir, "data.bin"), partial);

        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir);
        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent.Info, getDir);
        Assert.Equal(9, get.Progress.PiecesHave);
        get.AddPeer(seeder.LocalEndPoint!);
        await get.WaitForCompletionAsync().WaitAsync(Generous);

        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getDir);
        Assert.Equal(11L * pieceLength, get.Progress.BytesDownloaded);
    }

    [Fact]
    public async Task A_magnet_download_fetches_the_metadata_from_peers()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var getDir = t.NewDirectory("get");
        var torrent = await t.CreateMultiFileAsync(seedDir, "magnet", [40_000, 70_000], 16 * 1024);

        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir);
        await using var leecher = TestTorrents.NewClient();
        var magnet = MagnetLink.Parse(MagnetLink.FromMetainfo(torrent).ToString());
        var get = leecher.AddMagnet(magnet.InfoHash, getDir);
        await get.StartAsync();
        Assert.Null(get.Info);
        get.AddPeer(seeder.LocalEndPoint!);
        await get.MetadataReady.WaitAsync(Generous);
        Assert.Equal(torrent.InfoHash, get.Info!.InfoHash);
        await get.WaitForCompletionAsync().WaitAsync(Generous);
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getDir);
    }

    [Fact]
    public async Task Two_seeders_and_a_relaying_leecher_all_end_with_the_same_bytes()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "swarm.bin", 2_000_000, 32 * 1024, seed: 21);
        var copyDir = t.NewDirectory("copy");
        File.Copy(Path.Combine(seedDir, "swarm.bin"), Path.Combine(copyDir, "swarm.bin"));

        await using var s1 = TestTorrents.NewClient();
        await (s1.Add(torrent.Info, seedDir)).StartAsync();
        await using var s2 = TestTorrents.NewClient();
        await (s2.Add(torrent.Info, copyDir)).StartAsync();

        // A fetches from both seeders (rarest first, then endgame across them); B fetches from A only, while A is still downloading.
        await using var a = TestTorrents.NewClient();
        var getA = await a.AddStartedAsync(torrent.Info, t.NewDirectory("a"));
        await using var b = TestTorrents.NewClient();
        var getB = await b.AddStartedAsync(torrent.Info, t.NewDirectory("b"), new TorrentSessionOptions { PexInterval = TimeSpan.FromHours(1) });
        getA.AddPeer(s1.LocalEndPoint!);
        getA.AddPeer(s2.LocalEndPoint!);
        getB.AddPeer(a.LocalEndPoint!);
        await Task.WhenAll(getA.WaitForCompletionAsync(), getB.WaitForCompletionAsync()).WaitAsync(Generous);

        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getA.Directory);
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getB.Directory);
        Assert.True(getA.Progress.BytesDownloaded >= torrent.Info.TotalLength);
    }

    internal static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(50);
        }
    }
}
