using System.Buffers;

namespace Testbed.Torrent.Tests.Sessions;

/// <summary>
/// A download whose sources are all gone fails at once with the reason, so that its caller can try another peer instead of
/// waiting out a timeout; a source that stays connected is still waited for.
/// </summary>
public sealed class SourceLossTests
{
    /// <summary>Far longer than any of these downloads may take to fail: the tests assert on the reason, never on this.</summary>
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    /// <summary>A started download of <paramref name="torrent"/> whose sources are <paramref name="sources"/> and no others (no trackers).</summary>
    private static async Task<TorrentSession> LeechFromAsync(TorrentClient leecher, TestTorrents t, TorrentMetainfo torrent, params IPEndPoint[] sources)
    {
        var get = await leecher.AddStartedAsync(torrent.Info, t.NewDirectory("get"), new TorrentSessionOptions { UseTrackers = false });
        foreach (var source in sources)
        {
            get.AddPeer(source);
        }

        return get;
    }

    [Fact]
    public async Task A_download_whose_only_source_closes_the_connection_mid_way_fails_naming_the_torrent_and_the_reason()
    {
        using var t = new TestTorrents();
        var torrent = await t.CreateSingleFileAsync(t.NewDirectory("seed"), "block.jws", 16 * 1024 * 4, 16 * 1024);
        using var listener = RawPeer.Listen();
        var source = (IPEndPoint)listener.LocalEndPoint!;
        await using var leecher = TestTorrents.NewClient();
        var get = await LeechFromAsync(leecher, t, torrent, source);

        // The source claims everything, is asked for a block, and is gone (a crashed process) before it answers.
        var download = get.WaitForDownloadAsync();
        await using (var seeder = await RawPeer.AcceptAsync(listener, CancellationToken.None))
        {
            await seeder.SendAsync(StateMessage.HaveAll);
            await seeder.SendAsync(StateMessage.Unchoke);
            Assert.NotNull(await seeder.ReceiveAsync(m => m is BlockMessage { Id: MessageId.Request }, Generous));
        }

        var failure = await Assert.ThrowsAsync<TorrentSourcesLostException>(() => download.WaitAsync(Generous));
        Assert.Equal($"its only source {source} closed the connection", failure.Reason);
        Assert.Equal(torrent.InfoHash, failure.InfoHash);
        Assert.Contains(torrent.InfoHash.ToHex(), failure.Message, StringComparison.Ordinal);
        Assert.Contains("block.jws", failure.Message, StringComparison.Ordinal);
        Assert.False(get.IsComplete);
    }

    [Fact]
    public async Task A_source_that_sends_the_last_blocks_and_closes_at_once_leaves_a_complete_download_not_a_lost_one()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var pieceLength = 16 * 1024 * 4;
        var torrent = await t.CreateSingleFileAsync(seedDir, "last.bin", pieceLength, pieceLength);
        var content = await File.ReadAllBytesAsync(Path.Combine(seedDir, "last.bin"));
        using var listener = RawPeer.Listen();
        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent.Info, t.NewDirectory("get"), new TorrentSessionOptions { UseTrackers = false });
        get.AddPeer((IPEndPoint)listener.LocalEndPoint!);
        var download = get.WaitForDownloadAsync();

        // The piece is verified off the read loop, which sees the close at once: the session still judges the loss only
        // after the piece it already has was checked, so the download completes.
        await using (var seeder = await RawPeer.AcceptAsync(listener, CancellationToken.None))
        {
            await seeder.SendAsync(StateMessage.HaveAll);
            await seeder.SendAsync(StateMessage.Unchoke);
            for (var answered = 0; answered < 4; answered++)
            {
                var request = (BlockMessage)(await seeder.ReceiveAsync(m => m is BlockMessage { Id: MessageId.Request }, Generous))!;
                var block = content.AsMemory(request.Block.Begin, request.Block.Length);
                await seeder.SendAsync(new PieceMessage(request.Block.Piece, request.Block.Begin, new ReadOnlySequence<byte>(block)));
            }
        }

        await download.WaitAsync(Generous);
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, get.Directory);
        Assert.False(get.SourcesLost.IsCompleted);
    }

    [Fact]
    public async Task A_source_that_stays_connected_but_silent_is_waited_for_until_its_connection_closes()
    {
        using var t = new TestTorrents();
        var torrent = await t.CreateSingleFileAsync(t.NewDirectory("seed"), "silent.bin", 50_000, 16 * 1024);
        using var listener = RawPeer.Listen();
        var source = (IPEndPoint)listener.LocalEndPoint!;
        await using var leecher = TestTorrents.NewClient();
        var get = await LeechFromAsync(leecher, t, torrent, source);

        var download = get.WaitForDownloadAsync();
        var seeder = await RawPeer.AcceptAsync(listener, CancellationToken.None);
        try
        {
            // Connected, says nothing: not lost, so only the caller's timeout ends this wait.
            await Assert.ThrowsAsync<TimeoutException>(() => download.WaitAsync(TimeSpan.FromSeconds(3)));
            Assert.False(get.SourcesLost.IsCompleted);
        }
        finally
        {
            await seeder.DisposeAsync();
        }

        var failure = await Assert.ThrowsAsync<TorrentSourcesLostException>(() => download.WaitAsync(Generous));
        Assert.Equal($"its only source {source} closed the connection", failure.Reason);
    }

    [Fact]
    public async Task A_source_that_refuses_the_connection_fails_the_download_and_a_source_added_later_completes_it()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "segment.blocks", 40_000, 16 * 1024);
        IPEndPoint gone;
        using (var closed = RawPeer.Listen())
        {
            gone = (IPEndPoint)closed.LocalEndPoint!;
        }

        await using var leecher = TestTorrents.NewClient();
        var get = await LeechFromAsync(leecher, t, torrent, gone);
        var failure = await Assert.ThrowsAsync<TorrentSourcesLostException>(() => get.WaitForDownloadAsync().WaitAsync(Generous));
        Assert.Equal($"its only source {gone} refused the connection (nothing listens there)", failure.Reason);

        // The session is still usable: another source revives the wait, and the download completes from it.
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir, new TorrentSessionOptions { UseTrackers = false });
        get.AddPeer(seeder.LocalEndPoint!);
        await get.WaitForDownloadAsync().WaitAsync(Generous);
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, get.Directory);
    }

    [Fact]
    public async Task Losing_one_of_two_sources_does_not_fail_the_download_losing_both_does()
    {
        using var t = new TestTorrents();
        var torrent = await t.CreateSingleFileAsync(t.NewDirectory("seed"), "two.bin", 16 * 1024 * 6, 16 * 1024);
        using var firstListener = RawPeer.Listen();
        using var secondListener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        secondListener.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        secondListener.Listen(4);
        var second = (IPEndPoint)secondListener.LocalEndPoint!;
        await using var leecher = TestTorrents.NewClient();
        var get = await LeechFromAsync(leecher, t, torrent, (IPEndPoint)firstListener.LocalEndPoint!, second);
        var download = get.WaitForDownloadAsync();

        var quitter = await RawPeer.AcceptAsync(firstListener, CancellationToken.None);
        var holder = await RawPeer.AcceptAsync(secondListener, CancellationToken.None);
        try
        {
            // The holder has everything but keeps us choked; the quitter is asked for a block and closes.
            await holder.SendAsync(StateMessage.HaveAll);
            await quitter.SendAsync(StateMessage.HaveAll);
            await quitter.SendAsync(StateMessage.Unchoke);
            Assert.NotNull(await quitter.ReceiveAsync(m => m is BlockMessage { Id: MessageId.Request }, Generous));
            Assert.NotNull(await holder.ReceiveAsync(m => m == StateMessage.Interested, Generous));
        }
        finally
        {
            await quitter.DisposeAsync();
        }

        await SwarmTests.WaitUntil(() => get.Progress.Peers == 1, Generous);
        Assert.False(get.SourcesLost.IsCompleted, "sources lost while one that has every piece is still connected");
        Assert.False(download.IsCompleted);

        await holder.DisposeAsync();
        var failure = await Assert.ThrowsAsync<TorrentSourcesLostException>(() => download.WaitAsync(Generous));
        Assert.Equal($"none of its 2 sources is left (the last, {second}, closed the connection)", failure.Reason);
    }
}
