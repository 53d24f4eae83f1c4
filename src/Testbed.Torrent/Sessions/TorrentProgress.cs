namespace Testbed.Torrent.Sessions;

/// <summary>A snapshot of a session's progress.</summary>
public sealed record TorrentProgress(int PiecesHave, int PieceCount, long TotalBytes, long BytesDownloaded, long BytesUploaded, int Peers, int Banned)
{
    /// <summary>Fraction of pieces verified (0..1).</summary>
    public double Fraction => PieceCount == 0 ? 0 : (double)PiecesHave / PieceCount;
}
