using System.Collections;
using System.Text;

namespace Testbed.Torrent.Bencoding;

/// <summary>A bencoded dictionary (`d...e`) whose keys are byte strings kept in raw byte order.</summary>
public sealed class BencodeDictionary : BencodeValue, IEnumerable<KeyValuePair<BencodeString, BencodeValue>>
{
    private readonly SortedDictionary<BencodeString, BencodeValue> _entries = new(Comparer<BencodeString>.Default);

    /// <summary>Number of entries.</summary>
    public int Count => _entries.Count;

    /// <summary>Keys in canonical (raw byte) order.</summary>
    public IEnumerable<BencodeString> Keys => _entries.Keys;

    /// <summary>Gets or sets the value of a UTF-8 key; getting a missing key throws <see cref="KeyNotFoundException"/>.</summary>
    public BencodeValue this[string key]
    {
        get => _entries.TryGetValue(new BencodeString(key), out var value)
            ? value
            : throw new KeyNotFoundException($"bencode dictionary has no key '{key}'");
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _entries[new BencodeString(key)] = value;
        }
    }

    /// <summary>Adds an entry; the key must not be present.</summary>
    public void Add(string key, BencodeValue value) => Add(new BencodeString(key), value);

    /// <summary>Adds an entry; the key must not be present.</summary>
    public void Add(BencodeString key, BencodeValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!_entries.TryAdd(key, value))
        {
            throw new ArgumentException($"duplicate bencode dictionary key '{key}'", nameof(key));
        }
    }

    /// <summary>Whether the key is present.</summary>
    public bool ContainsKey(string key) => _entries.ContainsKey(new BencodeString(key));

    /// <summary>Removes a key if present.</summary>
    public bool Remove(string key) => _entries.Remove(new BencodeString(key));

    /// <summary>Looks a key up.</summary>
    public bool TryGetValue(string key, out BencodeValue value)
    {
        if (_entries.TryGetValue(new BencodeString(key), out var found))
        {
            value = found;
            return true;
        }

        value = null!;
        return false;
    }

    /// <summary>The value of a key if it is present and of type <typeparamref name="T"/>; null if absent; throws if of another type.</summary>
    public T? Get<T>(string key)
        where T : BencodeValue
    {
        if (!TryGetValue(key, out var value))
        {
            return null;
        }

        return value as T ?? throw new BencodeException(
            $"key '{key}' holds {BencodeEncoder.KindOf(value)}, expected {KindName(typeof(T))}",
            value.SourceOffset);
    }

    /// <summary>The value of a required key of type <typeparamref name="T"/>; throws a <see cref="BencodeException"/> naming the key if absent or of another type.</summary>
    public T Require<T>(string key)
        where T : BencodeValue
        => Get<T>(key) ?? throw new BencodeException($"required key '{key}' is missing", SourceOffset);

    /// <summary>A text value of a key, or null if absent.</summary>
    public string? GetText(string key) => Get<BencodeString>(key)?.Text;

    /// <summary>An integer value of a key, or null if absent.</summary>
    public long? GetInteger(string key) => Get<BencodeInteger>(key)?.Value;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<BencodeString, BencodeValue>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal void AddDecoded(BencodeString key, BencodeValue value) => _entries.Add(key, value);

    private static string KindName(Type type) =>
        type == typeof(BencodeInteger) ? "an integer"
        : type == typeof(BencodeString) ? "a byte string"
        : type == typeof(BencodeList) ? "a list"
        : type == typeof(BencodeDictionary) ? "a dictionary"
        : type.Name;

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder("{");
        foreach (var (key, value) in _entries)
        {
            text.Append(key.Text).Append(": ").Append(value is BencodeString s && s.Length > 64 ? $"<{s.Length} bytes>" : value.ToString()).Append("; ");
        }

        return text.Append('}').ToString();
    }
}
