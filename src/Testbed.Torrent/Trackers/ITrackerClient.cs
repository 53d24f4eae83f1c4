using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Trackers;

/// <summary>One tracker, spoken to over HTTP (BEP 3) or UDP (BEP 15).</summary>
public interface ITrackerClient : IDisposable
{
    /// <summary>The tracker's announce URL.</summary>
    Uri Uri { get; }

    /// <summary>Announces once (no retries; see <see cref="TrackerAnnouncer"/> for those).</summary>
    Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken = default);

    /// <summary>Scrapes counts for the given torrents; torrents the tracker does not know are absent from the result.</summary>
    Task<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken = default);
}
