namespace Testbed.Torrent.PiecePicking;

/// <summary>A piece being assembled in memory: block states, who asked for each block, who sent data for it.</summary>
public sealed class PieceDownload
{
    internal PieceDownload(int piece, int length, int blockCount, object? exclusivePeer)
    {
        Piece = piece;
        Length = length;
        (_buffer, _offset) = PageAlignedBuffers.Rent(length);
        States = new BlockState[blockCount];
        Requesters = new List<object>?[blockCount];
        ExclusivePeer = exclusivePeer;
    }

    /// <summary>The piece index.</summary>
    public int Piece { get; }

    /// <summary>The piece's length in bytes.</summary>
    public int Length { get; }

    private byte[] _buffer;
    private int _offset;

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

    /// <summary>The assembled piece bytes; they start on a page boundary in memory (see <see cref="PageAlignedBuffers"/>).</summary>
    public ReadOnlySpan<byte> Data => _buffer.AsSpan(_offset, Length);

    /// <summary>Where the blocks are assembled.</summary>
    internal Span<byte> Space => _buffer.AsSpan(_offset, Length);

    /// <summary>Returns the buffer to the pool; the piece object must not be used afterwards.</summary>
    public void ReleaseBuffer()
    {
        if (_buffer.Length > 0)
        {
            PageAlignedBuffers.Return(_buffer);
            _buffer = [];
            _offset = 0;
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
