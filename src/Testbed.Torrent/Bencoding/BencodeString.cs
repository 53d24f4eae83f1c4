using System.Text;

namespace Testbed.Torrent.Bencoding;

/// <summary>A bencoded byte string (`4:spam`); bytes, which may or may not be UTF-8 text.</summary>
public sealed class BencodeString : BencodeValue, IEquatable<BencodeString>, IComparable<BencodeString>
{
    /// <summary>Wraps bytes (not copied).</summary>
    public BencodeString(ReadOnlyMemory<byte> bytes) => Bytes = bytes;

    /// <summary>Encodes text as UTF-8.</summary>
    public BencodeString(string text) => Bytes = Encoding.UTF8.GetBytes(text);

    /// <summary>The bytes of the string.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>Length in bytes.</summary>
    public int Length => Bytes.Length;

    /// <summary>The bytes read as UTF-8 (invalid sequences become U+FFFD).</summary>
    public string Text => Encoding.UTF8.GetString(Bytes.Span);

    /// <summary>Orders by raw bytes, the order bencode requires of dictionary keys.</summary>
    public int CompareTo(BencodeString? other) => other is null ? 1 : Bytes.Span.SequenceCompareTo(other.Bytes.Span);

    /// <inheritdoc />
    public bool Equals(BencodeString? other) => other is not null && Bytes.Span.SequenceEqual(other.Bytes.Span);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as BencodeString);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Bytes.Span);
        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => Text;
}
