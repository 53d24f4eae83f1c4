namespace Testbed.Dashboard.Telemetry;

/// <summary>One data point of a metric series: time (Unix ms) and value (histograms: count and sum).</summary>
public readonly record struct MetricPoint(double TimeUnixMs, double Value, double? Sum = null);

/// <summary>What a metric is: name, unit, description and kind (gauge, sum, histogram, ...).</summary>
public sealed record MetricDescriptor(string Name, string Unit, string Description, string Kind);

/// <summary>A snapshot of one time series: its source, metric, attributes and points oldest first.</summary>
public sealed record MetricSeriesSnapshot(
    string Source,
    string Peer,
    MetricDescriptor Metric,
    IReadOnlyList<TelemetryAttribute> Attributes,
    IReadOnlyList<MetricPoint> Points);
