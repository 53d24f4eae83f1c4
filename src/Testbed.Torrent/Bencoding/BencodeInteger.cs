using System.Globalization;

namespace Testbed.Torrent.Bencoding;

/// <summary>A bencoded integer (`i42e`), bounded to 64 bits.</summary>
public sealed class BencodeInteger(long value) : BencodeValue, IEquatable<BencodeInteger>
{
    /// <summary>The integer.</summary>
    public long Value { get; } = value;

    /// <inheritdoc />
    public bool Equals(BencodeInteger? other) => other is not null && other.Value == Value;

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as BencodeInteger);

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode();

    /// <inheritdoc />
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
