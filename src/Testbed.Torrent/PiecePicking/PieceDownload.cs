using System.Buffers;

namespace Testbed.Torrent.PiecePicking;

/// <summary>A piece being assembled in memory: block states, who asked for each block, who sent data for it.</summary>
public sealed class PieceDownload
{
    internal PieceDownload(int piece, int length, int blockCount, object? exclusivePeer)
    {
        Piece = piece;
        Length = length;
        Buffer = ArrayPool<byte>.Shared.Rent(length);
        States = new BlockState[blockCount];
        Requesters = new List<object>?[blockCount];
        ExclusivePeer = exclusivePeer;
    }

    /// <summary>The piece index.</summary>
    public int Piece { get; }

    /// <summary>The piece's length in bytes.</summary>
    public int Length { get; }

    /// <summary>Pooled buffer holding the piece (only the first <see cref="Length"/> bytes are the piece).</summary>
    public byte[] Buffer { get; private set; }

    /// <summary>State of each 16 KiB block.</summary>
    internal BlockState[] States { get; }

    /// <summary>Peers with an outstanding request for each block (more than one only in endgame).</summary>
    internal List<object>?[] Requesters { get; }

    /// <summary>Every peer that supplied a block of this piece: the suspects if the hash fails.</summary>
    public HashSet<object> Contributors { get; } = [];

    /// <summary>When set, only this peer may fetch blocks of the piece (a retry after a failed, mixed-source piece).</summary>
    internal object? ExclusivePeer { get; set; }

    /// <summary>Blocks received so far.</summary>
    internal int Received { get; set; }

    /// <summary>True once every block has arrived.</summary>
    public bool IsComplete => Received == States.Length;

    /// <summary>The assembled piece bytes.</summary>
    public ReadOnlySpan<byte> Data => Buffer.AsSpan(0, Length);

    /// <summary>Returns the buffer to the pool; the piece object must not be used afterwards.</summary>
    public void ReleaseBuffer()
    {
        if (Buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = [];
        }
    }
}

/// <summary>Where a block of an active piece stands.</summary>
internal enum BlockState : byte
{
    Free,
    Requested,
    Received,
}
