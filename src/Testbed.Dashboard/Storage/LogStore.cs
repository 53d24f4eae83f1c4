using Testbed.Dashboard.Telemetry;

namespace Testbed.Dashboard.Storage;

/// <summary>What the log list is filtered by; every criterion is optional and all must hold.</summary>
/// <param name="MinLevel">Lowest severity number shown (9 = Information, 13 = Warning, 17 = Error).</param>
/// <param name="After">Only records with a larger sequence (for live tailing).</param>
public sealed record LogFilter(
    string? Resource = null,
    int MinLevel = 0,
    string? Text = null,
    string? TraceId = null,
    long After = -1,
    int Limit = 500);

/// <summary>The most recent structured log records in a ring buffer: the oldest record is evicted first.</summary>
public sealed class LogStore(TelemetryLimits limits)
{
    private readonly Lock _gate = new();
    private readonly LogEntry?[] _ring = new LogEntry?[limits.MaxLogs];
    private long _next;

    /// <summary>Sequence number the next record gets; also the number of records ever stored.</summary>
    public long Version => Interlocked.Read(ref _next);

    /// <summary>Records kept now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return (int)Math.Min(_next, _ring.Length);
            }
        }
    }

    /// <summary>Assigns sequence numbers and stores; <paramref name="create"/> builds each record from its sequence.</summary>
    public void Add<T>(IReadOnlyList<T> items, Func<T, long, LogEntry> create)
    {
        lock (_gate)
        {
            foreach (var item in items)
            {
                _ring[_next % _ring.Length] = create(item, _next);
                _next++;
            }
        }
    }

    /// <summary>The newest records matching <paramref name="filter"/>, oldest first.</summary>
    public IReadOnlyList<LogEntry> Query(LogFilter filter)
    {
        var result = new List<LogEntry>();
        var limit = Math.Max(0, filter.Limit);
        lock (_gate)
        {
            var oldest = Math.Max(0, _next - _ring.Length);
            for (var sequence = _next - 1; sequence >= oldest && sequence > filter.After && result.Count < limit; sequence--)
            {
                var entry = _ring[sequence % _ring.Length]!;
                if (Matches(entry, filter))
                {
                    result.Add(entry);
                }
            }
        }

        result.Reverse();
        return result;
    }

    private static bool Matches(LogEntry entry, LogFilter filter)
    {
        if (entry.SeverityNumber < filter.MinLevel)
        {
            return false;
        }

        if (!string.IsNullOrWhiteSpace(filter.Resource)
            && !string.Equals(entry.Source, filter.Resource, StringComparison.OrdinalIgnoreCase)
            && !entry.Attributes.Any(a => a.Key == "testbed.peer" && string.Equals(a.Value, filter.Resource, StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        if (!string.IsNullOrWhiteSpace(filter.TraceId) && !string.Equals(entry.TraceId, filter.TraceId, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return string.IsNullOrWhiteSpace(filter.Text)
            || entry.Body.Contains(filter.Text, StringComparison.OrdinalIgnoreCase)
            || entry.Scope.Contains(filter.Text, StringComparison.OrdinalIgnoreCase)
            || entry.Attributes.Any(a => a.Value.Contains(filter.Text, StringComparison.OrdinalIgnoreCase));
    }
}
