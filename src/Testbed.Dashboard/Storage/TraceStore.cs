using Testbed.Dashboard.Telemetry;

namespace Testbed.Dashboard.Storage;

/// <summary>A summary row of the trace list.</summary>
public sealed record TraceSummary(
    string TraceId,
    string RootName,
    string RootSource,
    double StartUnixMs,
    double DurationMs,
    int SpanCount,
    int ErrorCount,
    IReadOnlyList<string> Peers,
    IReadOnlyList<string> Sources,
    string? BlockHash,
    string? BlockHeight);

/// <summary>What the trace list is filtered by; every criterion is optional and all must hold.</summary>
/// <param name="Resource">A span's source or peer equals this (case-insensitive).</param>
/// <param name="SpanName">A span's name contains this (case-insensitive).</param>
/// <param name="Attribute"><c>key</c> (a span has it) or <c>key=value</c> (a span has it with a value containing value).</param>
public sealed record TraceFilter(
    string? Resource = null,
    string? SpanName = null,
    string? Attribute = null,
    double? MinDurationMs = null,
    double? MaxDurationMs = null,
    int Limit = 200);

/// <summary>
/// The spans of the most recent traces, bounded by trace count, total span count and spans per trace;
/// the trace seen first is evicted first. Thread-safe: ingest and queries run concurrently.
/// </summary>
public sealed class TraceStore(TelemetryLimits limits)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TraceEntry> _traces = new(StringComparer.Ordinal);
    private readonly LinkedList<TraceEntry> _order = new();
    private long _spanCount;
    private long _droppedSpans;
    private long _evictedTraces;
    private long _version;

    /// <summary>Changes whenever a span is added or a trace evicted; the UI polls it to refresh only on change.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Counts of what is kept and what was dropped.</summary>
    public (int Traces, long Spans, long DroppedSpans, long EvictedTraces) Counts()
    {
        lock (_gate)
        {
            return (_traces.Count, _spanCount, _droppedSpans, _evictedTraces);
        }
    }

    /// <summary>Adds spans, evicting the oldest traces when a limit is passed.</summary>
    public void Add(IReadOnlyList<SpanRecord> spans)
    {
        if (spans.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            foreach (var span in spans)
            {
                if (!_traces.TryGetValue(span.TraceId, out var entry))
                {
                    entry = new TraceEntry(span.TraceId);
                    entry.Node = _order.AddLast(entry);
                    _traces.Add(span.TraceId, entry);
                }

                if (entry.Spans.Count >= limits.MaxSpansPerTrace)
                {
                    _droppedSpans++;
                    continue;
                }

                entry.Add(span);
                _spanCount++;
            }

            while (_traces.Count > limits.MaxTraces || (_spanCount > limits.MaxSpans && _order.Count > 1))
            {
                var oldest = _order.First!.Value;
                _order.RemoveFirst();
                _traces.Remove(oldest.TraceId);
                _spanCount -= oldest.Spans.Count;
                _evictedTraces++;
            }

            _version++;
        }
    }

    /// <summary>The spans of one trace ordered by start time, or null when it is not (or no longer) kept.</summary>
    public IReadOnlyList<SpanRecord>? Get(string traceId)
    {
        lock (_gate)
        {
            return _traces.TryGetValue(traceId.ToLowerInvariant(), out var entry)
                ? entry.Spans.OrderBy(s => s.StartUnixNano).ToArray()
                : null;
        }
    }

    /// <summary>Trace summaries matching <paramref name="filter"/>, most recent start first, and how many matched in all.</summary>
    public (IReadOnlyList<TraceSummary> Traces, int Matched) Query(TraceFilter filter)
    {
        string? attributeKey = null, attributeValue = null;
        if (!string.IsNullOrWhiteSpace(filter.Attribute))
        {
            var equals = filter.Attribute.IndexOf('=', StringComparison.Ordinal);
            attributeKey = (equals < 0 ? filter.Attribute : filter.Attribute[..equals]).Trim();
            attributeValue = equals < 0 ? null : filter.Attribute[(equals + 1)..].Trim();
        }

        var matches = new List<TraceEntry>();
        lock (_gate)
        {
            foreach (var entry in _traces.Values)
            {
                if (Matches(entry, filter, attributeKey, attributeValue))
                {
                    matches.Add(entry);
                }
            }

            matches.Sort((a, b) => b.StartUnixNano.CompareTo(a.StartUnixNano));
            var limit = Math.Clamp(filter.Limit, 0, matches.Count);
            var page = new TraceSummary[limit];
            for (var i = 0; i < limit; i++)
            {
                page[i] = matches[i].Summary();
            }

            return (page, matches.Count);
        }
    }

    /// <summary>A copy of every kept span (for views that scan all telemetry: peer comparison, chain).</summary>
    public IReadOnlyList<SpanRecord> AllSpans(Func<SpanRecord, bool> predicate)
    {
        var result = new List<SpanRecord>();
        lock (_gate)
        {
            foreach (var entry in _order)
            {
                foreach (var span in entry.Spans)
                {
                    if (predicate(span))
                    {
                        result.Add(span);
                    }
                }
            }
        }

        return result;
    }

    /// <summary>The trace ids kept that contain a span matching <paramref name="predicate"/>, most recent first.</summary>
    public IReadOnlyList<string> TraceIds(Func<SpanRecord, bool> predicate)
    {
        lock (_gate)
        {
            return _order.Reverse().Where(entry => entry.Spans.Any(predicate)).Select(entry => entry.TraceId).ToArray();
        }
    }

    private static bool Matches(TraceEntry entry, TraceFilter filter, string? attributeKey, string? attributeValue)
    {
        var duration = entry.DurationMs;
        if ((filter.MinDurationMs is { } min && duration < min) || (filter.MaxDurationMs is { } max && duration > max))
        {
            return false;
        }

        if (!string.IsNullOrWhiteSpace(filter.Resource)
            && !entry.Sources.Contains(filter.Resource) && !entry.Peers.Contains(filter.Resource))
        {
            return false;
        }

        if (!string.IsNullOrWhiteSpace(filter.SpanName)
            && !entry.Spans.Exists(s => s.Name.Contains(filter.SpanName, StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        if (attributeKey is not null && !entry.Spans.Exists(s => HasAttribute(s, attributeKey, attributeValue)))
        {
            return false;
        }

        return true;
    }

    private static bool HasAttribute(SpanRecord span, string key, string? value)
    {
        foreach (var attribute in span.Attributes)
        {
            if (string.Equals(attribute.Key, key, StringComparison.OrdinalIgnoreCase)
                && (value is null || attribute.Value.Contains(value, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One trace's spans and a running summary, so the list needs no pass over the spans.</summary>
    private sealed class TraceEntry(string traceId)
    {
        public string TraceId { get; } = traceId;

        public List<SpanRecord> Spans { get; } = [];

        public LinkedListNode<TraceEntry>? Node { get; set; }

        public HashSet<string> Peers { get; } = new(StringComparer.OrdinalIgnoreCase);

        public HashSet<string> Sources { get; } = new(StringComparer.OrdinalIgnoreCase);

        public long StartUnixNano { get; private set; } = long.MaxValue;

        public long EndUnixNano { get; private set; } = long.MinValue;

        public double DurationMs => Spans.Count == 0 ? 0 : Math.Max(0, EndUnixNano - StartUnixNano) / 1e6;

        private SpanRecord? _root;
        private int _errors;
        private string? _blockHash;
        private string? _blockHeight;

        public void Add(SpanRecord span)
        {
            Spans.Add(span);
            Peers.Add(span.Peer);
            Sources.Add(span.Source);
            StartUnixNano = Math.Min(StartUnixNano, span.StartUnixNano);
            EndUnixNano = Math.Max(EndUnixNano, span.EndUnixNano);
            if (span.Status == "Error")
            {
                _errors++;
            }

            // The root is the span without a parent; until it arrives, the earliest span stands in.
            if (_root is null || (span.ParentSpanId is null && _root.ParentSpanId is not null)
                || (span.ParentSpanId is null == (_root.ParentSpanId is null) && span.StartUnixNano < _root.StartUnixNano))
            {
                _root = span;
            }

            _blockHash ??= span.Attribute("block.hash");
            _blockHeight ??= span.Attribute("block.height");
        }

        public TraceSummary Summary() => new(
            TraceId,
            _root?.Name ?? "",
            _root?.Source ?? "",
            StartUnixNano / 1e6,
            DurationMs,
            Spans.Count,
            _errors,
            [.. Peers.Order(StringComparer.Ordinal)],
            [.. Sources.Order(StringComparer.Ordinal)],
            _blockHash,
            _blockHeight);
    }
}
