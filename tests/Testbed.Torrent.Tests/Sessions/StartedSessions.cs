namespace Testbed.Torrent.Tests.Sessions;

/// <summary>Adds a torrent to a client and starts its session: the two steps each side of a swarm test takes.</summary>
internal static class StartedSessions
{
    /// <summary>Adds <paramref name="info"/> with its files under <paramref name="directory"/> and starts the session.</summary>
    public static async Task<TorrentSession> AddStartedAsync(
        this TorrentClient client,
        TorrentInfo info,
        string directory,
        TorrentSessionOptions? options = null,
        IReadOnlyList<IReadOnlyList<string>>? trackerTiers = null,
        IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>>? pieceLayers = null)
    {
        var session = client.Add(info, directory, options, trackerTiers, pieceLayers);
        await session.StartAsync();
        return session;
    }

    /// <summary>Adds <paramref name="metainfo"/> (with its v2 piece layers) under <paramref name="directory"/> and starts the session.</summary>
    public static async Task<TorrentSession> AddStartedAsync(this TorrentClient client, TorrentMetainfo metainfo, string directory, TorrentSessionOptions? options = null)
    {
        var session = client.Add(metainfo, directory, options);
        await session.StartAsync();
        return session;
    }
}
