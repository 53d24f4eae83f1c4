using System.Diagnostics.Metrics;

namespace Testbed.Torrent.Sessions;

/// <summary>Byte counters of the peer wire (payload bytes of piece messages), on the library's Meter.</summary>
public static class TransferMetrics
{
    /// <summary>Piece payload bytes received from peers (`torrent.bytes.down`).</summary>
    public static readonly Counter<long> BytesDown =
        TorrentTelemetry.Meter.CreateCounter<long>("torrent.bytes.down", "By", "Piece payload bytes received from peers");

    /// <summary>Piece payload bytes sent to peers (`torrent.bytes.up`).</summary>
    public static readonly Counter<long> BytesUp =
        TorrentTelemetry.Meter.CreateCounter<long>("torrent.bytes.up", "By", "Piece payload bytes sent to peers");

    /// <summary>Pieces that failed their SHA-1 check (`torrent.pieces.failed`).</summary>
    public static readonly Counter<long> PiecesFailed =
        TorrentTelemetry.Meter.CreateCounter<long>("torrent.pieces.failed", "{piece}", "Pieces whose SHA-1 did not match");

    /// <summary>Peers banned for sending corrupt data or breaking the protocol (`torrent.peers.banned`).</summary>
    public static readonly Counter<long> PeersBanned =
        TorrentTelemetry.Meter.CreateCounter<long>("torrent.peers.banned", "{peer}", "Peers banned for corrupt data");
}
