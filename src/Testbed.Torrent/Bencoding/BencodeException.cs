namespace Testbed.Torrent.Bencoding;

/// <summary>Malformed or out-of-bounds bencode, with the byte offset where the problem was found.</summary>
public sealed class BencodeException : FormatException
{
    /// <summary>Creates the exception; the offset is put in the message when known (non-negative).</summary>
    public BencodeException(string problem, long offset)
        : base(offset >= 0 ? $"bencode: {problem} at offset {offset}" : $"bencode: {problem}")
    {
        Problem = problem;
        Offset = offset;
    }

    /// <summary>What was wrong, without the offset.</summary>
    public string Problem { get; }

    /// <summary>Byte offset in the input where the problem was found, or -1 if not tied to input.</summary>
    public long Offset { get; }
}
