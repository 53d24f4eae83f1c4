namespace Testbed.Torrent.Tests.Interop;

/// <summary>
/// Our seeder of a multi-file torrent (32 KiB pieces), listed by a mini tracker that the torrent file written for the other
/// client names: for clients that find peers only through a tracker.
/// </summary>
internal sealed record TrackedSeeder(TorrentClient Client, TorrentSession Session, MiniTracker Tracker, TorrentMetainfo Torrent, string TorrentFile) : IAsyncDisposable
{
    /// <summary>
    /// Makes the torrent's files of <paramref name="sizes"/> in a new directory of <paramref name="t"/> (the session's
    /// <see cref="TorrentSession.Directory"/>), seeds them and starts the tracker.
    /// </summary>
    public static async Task<TrackedSeeder> StartAsync(TestTorrents t, int[] sizes)
    {
        var seedDir = t.NewDirectory("seed");
        var client = TestTorrents.NewClient();
        try
        {
            var torrent = await t.CreateMultiFileAsync(seedDir, "multi", sizes, 32 * 1024);
            var session = await client.AddStartedAsync(torrent.Info, seedDir, new TorrentSessionOptions { UseTrackers = false });
            var tracker = new MiniTracker([client.LocalEndPoint!]);
            return new TrackedSeeder(client, session, tracker, torrent, await RetrackAsync(t, seedDir, torrent, tracker.AnnounceUrl));
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Tracker.DisposeAsync();
        await Client.DisposeAsync();
    }

    // The same torrent (same info hash) made again with the tracker in it, written where the other client reads it.
    private static async Task<string> RetrackAsync(TestTorrents t, string seedDir, TorrentMetainfo torrent, string announceUrl)
    {
        var again = await TorrentCreator.CreateFromPathAsync(Path.Combine(seedDir, torrent.Info.Name), new TorrentCreateOptions
        {
            PieceLength = torrent.Info.PieceLength,
            TrackerTiers = TorrentCreateOptions.OneTierEach([announceUrl]),
        });
        Assert.Equal(torrent.InfoHash, again.InfoHash);
        return await ExternalClientTests.WriteTorrentAsync(t, again);
    }
}
