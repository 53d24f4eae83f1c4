using System.Collections;

namespace Testbed.Torrent.Bencoding;

/// <summary>A bencoded list (`l...e`).</summary>
public sealed class BencodeList : BencodeValue, IReadOnlyList<BencodeValue>
{
    private readonly List<BencodeValue> _items;

    /// <summary>An empty list, filled with <see cref="Add"/> or a collection initializer.</summary>
    public BencodeList() => _items = [];

    /// <summary>A list of the given items.</summary>
    public BencodeList(IEnumerable<BencodeValue> items) => _items = [.. items];

    /// <inheritdoc />
    public int Count => _items.Count;

    /// <inheritdoc />
    public BencodeValue this[int index] => _items[index];

    /// <summary>Appends an item.</summary>
    public void Add(BencodeValue item)
    {
        ArgumentNullException.ThrowIfNull(item);
        _items.Add(item);
    }

    /// <inheritdoc />
    public IEnumerator<BencodeValue> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
