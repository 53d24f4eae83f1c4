namespace Testbed.Torrent.Bencoding;

/// <summary>A bencoded value: an integer, a byte string, a list or a dictionary.</summary>
public abstract class BencodeValue
{
    /// <summary>
    /// The exact bytes this value was decoded from (empty for values built in code). Kept so a
    /// dictionary such as `info` can be hashed exactly as received, never as re-encoded.
    /// </summary>
    public ReadOnlyMemory<byte> Raw { get; internal set; }

    /// <summary>Offset of this value in the decoded input (-1 for values built in code).</summary>
    public long SourceOffset { get; internal set; } = -1;

    /// <summary>Encodes this value canonically.</summary>
    public byte[] Encode() => BencodeEncoder.Encode(this);

    /// <summary>An integer value.</summary>
    public static implicit operator BencodeValue(long value) => new BencodeInteger(value);

    /// <summary>A UTF-8 text value.</summary>
    public static implicit operator BencodeValue(string value) => new BencodeString(value);

    /// <summary>A byte string value.</summary>
    public static implicit operator BencodeValue(byte[] value) => new BencodeString(value);
}
