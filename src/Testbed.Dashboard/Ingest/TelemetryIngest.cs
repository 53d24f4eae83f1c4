using Testbed.Dashboard.Forwarding;
using Testbed.Dashboard.Protocol.Collector.Logs;
using Testbed.Dashboard.Protocol.Collector.Metrics;
using Testbed.Dashboard.Protocol.Collector.Trace;
using Testbed.Dashboard.Storage;
using Testbed.Dashboard.Telemetry;
using Testbed.Dashboard.Protocol.Metrics;

namespace Testbed.Dashboard.Ingest;

/// <summary>Outcome of one export: how many items were refused and why (OTLP partial success).</summary>
public sealed record IngestResult(long Accepted, long Rejected, string? Error);

/// <summary>The one path every OTLP request takes, whatever its transport: convert, store, forward.</summary>
public sealed class TelemetryIngest
{
    private readonly OtlpConverter _converter;
    private readonly OtlpForwarder? _forwarder;
    /// <summary>Most distinct source and peer names remembered for the filter lists.</summary>
    public const int MaxSources = 10_000;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _sources = new(StringComparer.Ordinal);
    private long _requests;
    private long _spansReceived;
    private long _logsReceived;
    private long _pointsReceived;

    internal TelemetryIngest(TelemetryLimits limits, TraceStore traces, LogStore logs, MetricStore metrics, OtlpForwarder? forwarder)
    {
        Limits = limits;
        Traces = traces;
        Logs = logs;
        Metrics = metrics;
        _converter = new OtlpConverter(limits);
        _forwarder = forwarder;
    }

    /// <summary>The limits in force.</summary>
    public TelemetryLimits Limits { get; }

    /// <summary>Kept spans.</summary>
    public TraceStore Traces { get; }

    /// <summary>Kept log records.</summary>
    public LogStore Logs { get; }

    /// <summary>Kept metric series.</summary>
    public MetricStore Metrics { get; }

    /// <summary>Counters since start: requests, spans, log records and data points accepted.</summary>
    public (long Requests, long Spans, long Logs, long Points) Received =>
        (Interlocked.Read(ref _requests), Interlocked.Read(ref _spansReceived), Interlocked.Read(ref _logsReceived), Interlocked.Read(ref _pointsReceived));

    /// <summary>Forwarding counters, or null without <c>--otlp-forward</c>.</summary>
    public ForwarderStats? Forwarding => _forwarder?.Stats;

    /// <summary>Names of every source (resource) and peer seen, for the UI's filter lists.</summary>
    public IReadOnlyList<string> Sources() => [.. _sources.Keys.Order(StringComparer.Ordinal)];

    private void Remember(string name)
    {
        if (_sources.Count < MaxSources)
        {
            _sources.TryAdd(name, 0);
        }
    }

    /// <summary>Stores the spans of <paramref name="request"/>; <paramref name="payload"/> (its protobuf bytes, when at hand) is forwarded as is.</summary>
    public IngestResult Ingest(ExportTraceServiceRequest request, ReadOnlyMemory<byte>? payload = null)
    {
        Interlocked.Increment(ref _requests);
        var spans = new List<SpanRecord>();
        long rejected = 0;
        string? error = null;
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var source = _converter.Source(resourceSpans.Resource);
            Remember(source.Name);
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                var scope = _converter.Cut(scopeSpans.Scope?.Name ?? "");
                foreach (var span in scopeSpans.Spans)
                {
                    var record = _converter.Span(span, source, scope, new ReceivedSpan(span, resourceSpans.Resource, scopeSpans.Scope), out var why);
                    if (record is null)
                    {
                        rejected++;
                        error ??= why;
                    }
                    else
                    {
                        spans.Add(record);
                        if (!ReferenceEquals(record.Peer, source.Name))
                        {
                            Remember(record.Peer);
                        }
                    }
                }
            }
        }

        Traces.Add(spans);
        Interlocked.Add(ref _spansReceived, spans.Count);
        _forwarder?.Enqueue(OtlpSignal.Traces, request, payload);
        return new IngestResult(spans.Count, rejected, error);
    }

    /// <summary>Stores the log records of <paramref name="request"/> and forwards it.</summary>
    public IngestResult Ingest(ExportLogsServiceRequest request, ReadOnlyMemory<byte>? payload = null)
    {
        Interlocked.Increment(ref _requests);
        var items = new List<(Protocol.Logs.LogRecord Record, TelemetrySource Source, string Scope)>();
        long rejected = 0;
        string? error = null;
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var source = _converter.Source(resourceLogs.Resource);
            Remember(source.Name);
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                var scope = _converter.Cut(scopeLogs.Scope?.Name ?? "");
                foreach (var record in scopeLogs.LogRecords)
                {
                    if (record.TraceId.Length is not (0 or 16) || record.SpanId.Length is not (0 or 8))
                    {
                        rejected++;
                        error ??= $"a log record has a trace_id of {record.TraceId.Length} bytes or a span_id of {record.SpanId.Length} bytes (must be empty, or 16 and 8)";
                        continue;
                    }

                    items.Add((record, source, scope));
                }
            }
        }

        Logs.Add(items, (item, sequence) =>
        {
            var (record, source, scope) = item;
            var severity = (int)record.SeverityNumber;
            var time = record.TimeUnixNano != 0 ? record.TimeUnixNano : record.ObservedTimeUnixNano;
            return new LogEntry(
                sequence,
                (long)time,
                severity,
                OtlpConverter.LevelName(severity),
                string.IsNullOrEmpty(record.SeverityText) ? null : _converter.Cut(record.SeverityText),
                _converter.Render(record.Body),
                record.TraceId.Length == 0 ? null : OtlpConverter.Hex(record.TraceId),
                record.SpanId.Length == 0 ? null : OtlpConverter.Hex(record.SpanId),
                source.Name,
                source.ServiceName,
                scope,
                _converter.Attributes(record.Attributes));
        });
        Interlocked.Add(ref _logsReceived, items.Count);
        _forwarder?.Enqueue(OtlpSignal.Logs, request, payload);
        return new IngestResult(items.Count, rejected, error);
    }

    /// <summary>Stores the data points of <paramref name="request"/> and forwards it.</summary>
    public IngestResult Ingest(ExportMetricsServiceRequest request, ReadOnlyMemory<byte>? payload = null)
    {
        Interlocked.Increment(ref _requests);
        long accepted = 0;
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            var source = _converter.Source(resourceMetrics.Resource);
            Remember(source.Name);
            foreach (var scopeMetrics in resourceMetrics.ScopeMetrics)
            {
                foreach (var metric in scopeMetrics.Metrics)
                {
                    accepted += AddMetric(source, metric);
                }
            }
        }

        Interlocked.Add(ref _pointsReceived, accepted);
        _forwarder?.Enqueue(OtlpSignal.Metrics, request, payload);
        return new IngestResult(accepted, 0, null);
    }

    private long AddMetric(TelemetrySource source, Metric metric)
    {
        var kind = metric.DataCase switch
        {
            Metric.DataOneofCase.Gauge => "gauge",
            Metric.DataOneofCase.Sum => metric.Sum.IsMonotonic ? "counter" : "updowncounter",
            Metric.DataOneofCase.Histogram => "histogram",
            Metric.DataOneofCase.ExponentialHistogram => "histogram",
            Metric.DataOneofCase.Summary => "summary",
            _ => "unknown",
        };
        var descriptor = new MetricDescriptor(_converter.Cut(metric.Name), _converter.Cut(metric.Unit), _converter.Cut(metric.Description), kind);
        long count = 0;

        void Add(Google.Protobuf.Collections.RepeatedField<Protocol.Common.KeyValue> attributes, ulong time, double value, double? sum = null)
        {
            var converted = _converter.Attributes(attributes);
            var peer = converted.FirstOrDefault(a => a.Key == OtlpConverter.PeerAttribute)?.Value ?? source.Name;
            Metrics.Add(source.Name, peer, descriptor, converted, new MetricPoint(time / 1e6, value, sum));
            count++;
        }

        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge:
                foreach (var point in metric.Gauge.DataPoints)
                {
                    Add(point.Attributes, point.TimeUnixNano, NumberValue(point));
                }

                break;
            case Metric.DataOneofCase.Sum:
                foreach (var point in metric.Sum.DataPoints)
                {
                    Add(point.Attributes, point.TimeUnixNano, NumberValue(point));
                }

                break;
            case Metric.DataOneofCase.Histogram:
                foreach (var point in metric.Histogram.DataPoints)
                {
                    Add(point.Attributes, point.TimeUnixNano, point.Count, point.HasSum ? point.Sum : null);
                }

                break;
            case Metric.DataOneofCase.ExponentialHistogram:
                foreach (var point in metric.ExponentialHistogram.DataPoints)
                {
                    Add(point.Attributes, point.TimeUnixNano, point.Count, point.HasSum ? point.Sum : null);
                }

                break;
            case Metric.DataOneofCase.Summary:
                foreach (var point in metric.Summary.DataPoints)
                {
                    Add(point.Attributes, point.TimeUnixNano, point.Count, point.Sum);
                }

                break;
            default:
                break;
        }

        return count;
    }

    private static double NumberValue(NumberDataPoint point) =>
        point.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? point.AsInt : point.AsDouble;
}
