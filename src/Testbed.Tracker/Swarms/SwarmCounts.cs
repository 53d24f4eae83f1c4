namespace Testbed.Tracker.Swarms;

/// <summary>What a scrape reports about one swarm.</summary>
/// <param name="Seeders">Live peers with the whole torrent.</param>
/// <param name="Leechers">Live peers still downloading.</param>
/// <param name="Downloaded">Completions the tracker has registered.</param>
public readonly record struct SwarmCounts(int Seeders, int Leechers, long Downloaded)
{
    /// <summary>Seeders and leechers together.</summary>
    public int Peers => Seeders + Leechers;
}
