namespace Testbed.Torrent.Messages;

/// <summary>A block of a piece: the (index, begin, length) triple carried by request, cancel and reject messages.</summary>
public readonly record struct BlockRequest(int Piece, int Begin, int Length)
{
    /// <summary>The standard block size every client uses (BEP 3: 2^14 bytes); larger requests are refused.</summary>
    public const int StandardLength = 16 * 1024;
}
