namespace Testbed.Inspector.Telemetry;

/// <summary>Counts of what the store holds and what it let go.</summary>
public sealed record SpanStoreCounts(int Traces, long Spans, long Added, long Duplicates, long Ignored, long DroppedSpans, long EvictedTraces, long Version);

/// <summary>
/// The inspector's bounded in-memory view of recent spans, grouped by trace. Only the spans its views use are kept (the
/// telemetry contract's block, torrent, vm, chain and chaos spans, anything carrying block.hash, and failed spans); a span
/// seen twice (the dashboard's stream replays its snapshot after a reconnect) is kept once. When a limit is passed the
/// trace seen first is evicted first.
/// </summary>
public sealed class SpanStore(int maxTraces, int maxSpans, int maxSpansPerTrace)
{
    /// <summary>Span names of the telemetry contract that the inspector's views read.</summary>
    public static readonly IReadOnlySet<string> ContractSpans = new HashSet<string>(StringComparer.Ordinal)
    {
        "block.produce", "block.mine", "block.sign", "block.announce", "block.receive", "torrent.download",
        "block.verify.signature", "block.verify.pow", "block.verify.transactions", "vm.replay", "chain.reorg", "chaos.fault",
    };

    private readonly Lock _gate = new();
    private readonly Dictionary<string, TraceEntry> _traces = new(StringComparer.Ordinal);
    private readonly LinkedList<TraceEntry> _order = new();
    private long _spanCount;
    private long _added;
    private long _duplicates;
    private long _ignored;
    private long _droppedSpans;
    private long _evictedTraces;
    private long _version;

    /// <summary>Changes whenever a span is added or a trace evicted; the UI polls it to re-render only on change.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Whether the inspector keeps <paramref name="span"/>: a contract span, one naming a block, or a failure.</summary>
    public static bool IsRelevant(SpanRecord span) =>
        ContractSpans.Contains(span.Name) || span.Status == "Error" || span.Attribute("block.hash") is not null;

    /// <summary>Counts of what is held and what was let go.</summary>
    public SpanStoreCounts Counts()
    {
        lock (_gate)
        {
            return new(_traces.Count, _spanCount, _added, _duplicates, _ignored, _droppedSpans, _evictedTraces, _version);
        }
    }

    /// <summary>Adds the relevant spans, skipping those already held; evicts the oldest traces past a limit. Returns how many were added.</summary>
    public int Add(IReadOnlyList<SpanRecord> spans)
    {
        ArgumentNullException.ThrowIfNull(spans);
        var added = 0;
        lock (_gate)
        {
            foreach (var span in spans)
            {
                if (!IsRelevant(span))
                {
                    _ignored++;
                    continue;
                }

                if (!_traces.TryGetValue(span.TraceId, out var entry))
                {
                    entry = new TraceEntry(span.TraceId);
                    entry.Node = _order.AddLast(entry);
                    _traces.Add(span.TraceId, entry);
                }

                if (entry.SpanIds.Contains(span.SpanId))
                {
                    _duplicates++;
                    continue;
                }

                if (entry.Spans.Count >= maxSpansPerTrace)
                {
                    _droppedSpans++;
                    continue;
                }

                entry.Spans.Add(span);
                entry.SpanIds.Add(span.SpanId);
                _spanCount++;
                _added++;
                added++;
            }

            while (_traces.Count > maxTraces || (_spanCount > maxSpans && _order.Count > 1))
            {
                var oldest = _order.First!.Value;
                _order.RemoveFirst();
                _traces.Remove(oldest.TraceId);
                _spanCount -= oldest.Spans.Count;
                _evictedTraces++;
            }

            if (added > 0)
            {
                _version++;
            }
        }

        return added;
    }

    /// <summary>The spans of one trace ordered by start time, or null when it is not (or no longer) held.</summary>
    public IReadOnlyList<SpanRecord>? Get(string traceId)
    {
        ArgumentNullException.ThrowIfNull(traceId);
        lock (_gate)
        {
            return _traces.TryGetValue(traceId.ToLowerInvariant(), out var entry)
                ? entry.Spans.OrderBy(s => s.StartUnixNano).ToArray()
                : null;
        }
    }

    /// <summary>A copy of every held span matching <paramref name="predicate"/>, oldest trace first.</summary>
    public IReadOnlyList<SpanRecord> AllSpans(Func<SpanRecord, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
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

    /// <summary>The held trace ids with a span matching <paramref name="predicate"/>, the trace seen last first.</summary>
    public IReadOnlyList<string> TraceIds(Func<SpanRecord, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        lock (_gate)
        {
            var result = new List<string>();
            for (var node = _order.Last; node is not null; node = node.Previous)
            {
                if (node.Value.Spans.Exists(s => predicate(s)))
                {
                    result.Add(node.Value.TraceId);
                }
            }

            return result;
        }
    }

    private sealed class TraceEntry(string traceId)
    {
        public string TraceId { get; } = traceId;

        public List<SpanRecord> Spans { get; } = [];

        public HashSet<string> SpanIds { get; } = new(StringComparer.Ordinal);

        public LinkedListNode<TraceEntry>? Node { get; set; }
    }
}
