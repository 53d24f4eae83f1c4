using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Testbed.Torrent;

/// <summary>The BitTorrent library's one ActivitySource and Meter, both named "Testbed.Torrent".</summary>
public static class TorrentTelemetry
{
    /// <summary>The name shared by the ActivitySource and the Meter.</summary>
    public const string Name = "Testbed.Torrent";

    /// <summary>Source of the `torrent.download` and `torrent.announce` spans.</summary>
    public static readonly ActivitySource ActivitySource = new(Name);

    /// <summary>Meter for the library's counters (bytes up and down, announces).</summary>
    public static readonly Meter Meter = new(Name);
}
