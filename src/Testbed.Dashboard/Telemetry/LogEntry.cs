namespace Testbed.Dashboard.Telemetry;

/// <summary>One structured log record; <see cref="TraceId"/> and <see cref="SpanId"/> link it to its trace.</summary>
/// <param name="Sequence">Arrival order, unique; clients poll with <c>after=</c> the last one they saw.</param>
/// <param name="Level">Trace, Debug, Information, Warning, Error or Critical (from the severity number).</param>
public sealed record LogEntry(
    long Sequence,
    long TimeUnixNano,
    int SeverityNumber,
    string Level,
    string? SeverityText,
    string Body,
    string? TraceId,
    string? SpanId,
    string Source,
    string ServiceName,
    string Scope,
    IReadOnlyList<TelemetryAttribute> Attributes);
