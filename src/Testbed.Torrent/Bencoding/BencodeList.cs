using System.Collections;

namespace Testbed.Torrent.Bencoding;

/// <summary>A bencoded list (`l...e`).</summary>
public sealed class BencodeList : BencodeValue, IReadOnlyList<BencodeValue>
{
    private readonly List<BencodeValue> items;

    /// <summary>An empty list, filled with <see cref="Add"/> or a collection initializer.</summary>
    public BencodeList() => items = [];

    /// <summary>A list of the given items.</summary>
    public BencodeList(IEnumerable<BencodeValue> items) => this.items = [.. items];

    /// <inheritdoc />
    public int Count => items.Count;

    /// <inheritdoc />
    public BencodeValue this[int index] => items[index];

    /// <summary>Appends an item.</summary>
    public void Add(BencodeValue item)
    {
        ArgumentNullException.ThrowIfNull(item);
        items.Add(item);
    }

    /// <inheritdoc />
    public IEnumerator<BencodeValue> GetEnumerator() => items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
