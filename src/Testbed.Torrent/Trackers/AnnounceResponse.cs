using System.Net;

namespace Testbed.Torrent.Trackers;

/// <summary>A peer a tracker returned: its address and, in the non-compact form, its peer id.</summary>
/// <param name="EndPoint">Address and port.</param>
/// <param name="PeerId">The 20-byte peer id when the tracker sent one.</param>
public sealed record TrackerPeer(IPEndPoint EndPoint, byte[]? PeerId = null)
{
    /// <inheritdoc />
    public bool Equals(TrackerPeer? other) =>
        other is not null && EndPoint.Equals(other.EndPoint) && (PeerId ?? []).AsSpan().SequenceEqual(other.PeerId ?? []);

    /// <inheritdoc />
    public override int GetHashCode() => EndPoint.GetHashCode();
}

/// <summary>A tracker's successful answer to an announce.</summary>
/// <param name="Interval">How long the tracker wants the client to wait before the next regular announce.</param>
/// <param name="MinInterval">The shortest wait the tracker allows, if it says.</param>
/// <param name="Peers">Peers in the swarm (IPv4 and IPv6).</param>
/// <param name="Seeders">Peers with the whole torrent, if reported.</param>
/// <param name="Leechers">Peers still downloading, if reported.</param>
/// <param name="TrackerId">A `tracker id` to send back on later announces, if any.</param>
/// <param name="WarningMessage">A `warning message`: the announce worked but the tracker has something to say.</param>
public sealed record AnnounceResponse(
    TimeSpan Interval,
    TimeSpan? MinInterval,
    IReadOnlyList<TrackerPeer> Peers,
    int? Seeders,
    int? Leechers,
    string? TrackerId = null,
    string? WarningMessage = null);

/// <summary>Counts a tracker keeps for one torrent (BEP 48 / BEP 15 scrape).</summary>
/// <param name="Complete">Seeders.</param>
/// <param name="Downloaded">Completed downloads ever reported.</param>
/// <param name="Incomplete">Leechers.</param>
public sealed record ScrapeStats(long Complete, long Downloaded, long Incomplete);
