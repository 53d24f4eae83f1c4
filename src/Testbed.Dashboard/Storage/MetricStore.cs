using Testbed.Dashboard.Telemetry;

namespace Testbed.Dashboard.Storage;

/// <summary>
/// Metric time series keyed by (source, metric, attributes), each a ring of its latest points; new series
/// past the series limit are dropped and counted.
/// </summary>
public sealed class MetricStore(TelemetryLimits limits)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
    private long _droppedSeries;
    private long _version;

    /// <summary>Changes whenever a point is added.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Series kept and series refused for the limit.</summary>
    public (int Series, long DroppedSeries) Counts()
    {
        lock (_gate)
        {
            return (_series.Count, _droppedSeries);
        }
    }

    /// <summary>Adds one point to its series, creating the series when there is room.</summary>
    public void Add(string source, string peer, MetricDescriptor metric, IReadOnlyList<TelemetryAttribute> attributes, MetricPoint point)
    {
        var key = string.Join('\u001f', [source, metric.Name, .. attributes.Select(a => a.Key + "=" + a.Value)]);
        lock (_gate)
        {
            if (!_series.TryGetValue(key, out var series))
            {
                if (_series.Count >= limits.MaxMetricSeries)
                {
                    _droppedSeries++;
                    return;
                }

                series = new Series(source, peer, metric, attributes, limits.MaxPointsPerSeries);
                _series.Add(key, series);
            }

            series.Metric = metric;
            series.Add(point);
            _version++;
        }
    }

    /// <summary>Every metric name with its description and the sources that report it.</summary>
    public IReadOnlyList<(MetricDescriptor Metric, IReadOnlyList<string> Sources)> Catalog()
    {
        lock (_gate)
        {
            return _series.Values.GroupBy(s => s.Metric.Name, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => (g.Last().Metric, (IReadOnlyList<string>)g.Select(s => s.Source).Distinct().Order(StringComparer.Ordinal).ToArray()))
                .ToArray();
        }
    }

    /// <summary>Snapshots of the series of metric <paramref name="name"/>, optionally of one source.</summary>
    public IReadOnlyList<MetricSeriesSnapshot> Get(string name, string? source = null)
    {
        lock (_gate)
        {
            return _series.Values
                .Where(s => s.Metric.Name == name && (source is null || s.Source == source || s.Peer == source))
                .OrderBy(s => s.Peer, StringComparer.Ordinal)
                .Select(s => s.Snapshot())
                .ToArray();
        }
    }

    private sealed class Series(string source, string peer, MetricDescriptor metric, IReadOnlyList<TelemetryAttribute> attributes, int capacity)
    {
        private readonly MetricPoint[] _ring = new MetricPoint[capacity];
        private long _next;

        public string Source { get; } = source;

        public string Peer { get; } = peer;

        public MetricDescriptor Metric { get; set; } = metric;

        public void Add(MetricPoint point)
        {
            // Exporters resend the same cumulative point each interval; keep one point per timestamp.
            if (_next > 0 && _ring[(_next - 1) % _ring.Length].TimeUnixMs == point.TimeUnixMs)
            {
                _ring[(_next - 1) % _ring.Length] = point;
                return;
            }

            _ring[_next % _ring.Length] = point;
            _next++;
        }

        public MetricSeriesSnapshot Snapshot()
        {
            var count = (int)Math.Min(_next, _ring.Length);
            var points = new MetricPoint[count];
            for (var i = 0; i < count; i++)
            {
                points[i] = _ring[(_next - count + i) % _ring.Length];
            }

            return new MetricSeriesSnapshot(Source, Peer, Metric, attributes, points);
        }
    }
}
