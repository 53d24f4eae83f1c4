using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Sessions;

/// <summary>
/// A download that cannot make progress any more: every source's connection closed (or could not be made) and nobody is
/// being dialled, so waiting longer would only wait out the caller's timeout.
/// </summary>
public sealed class TorrentSourcesLostException(InfoHash infoHash, string? name, string reason)
    : Exception($"torrent {infoHash}{(name is null ? "" : $" ({name})")} cannot complete: {reason}")
{
    /// <summary>The torrent whose download failed.</summary>
    public InfoHash InfoHash { get; } = infoHash;

    /// <summary>Why no source is left, e.g. "its only source 127.0.0.1:6881 closed the connection".</summary>
    public string Reason { get; } = reason;
}
