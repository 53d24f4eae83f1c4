namespace Testbed.Tracker.Announces;

/// <summary>Walks `name=value` pairs of a raw (still percent-encoded) query without allocating.</summary>
public ref struct QueryParameters
{
    private ReadOnlySpan<char> _rest;

    /// <summary>Starts at the beginning of <paramref name="query"/>; a leading `?` is skipped.</summary>
    public QueryParameters(ReadOnlySpan<char> query)
    {
        _rest = query.StartsWith('?') ? query[1..] : query;
    }

    /// <summary>The current parameter's raw name.</summary>
    public ReadOnlySpan<char> Name { get; private set; }

    /// <summary>The current parameter's raw value (empty when there was no `=`).</summary>
    public ReadOnlySpan<char> Value { get; private set; }

    /// <summary>Moves to the next non-empty pair.</summary>
    public bool MoveNext()
    {
        while (!_rest.IsEmpty)
        {
            var end = _rest.IndexOf('&');
            var pair = end < 0 ? _rest : _rest[..end];
            _rest = end < 0 ? [] : _rest[(end + 1)..];
            if (pair.IsEmpty)
            {
                continue;
            }

            var equals = pair.IndexOf('=');
            Name = equals < 0 ? pair : pair[..equals];
            Value = equals < 0 ? [] : pair[(equals + 1)..];
            return true;
        }

        return false;
    }
}
