using System.Text.Json.Serialization;

namespace Testbed.Dashboard.Telemetry;

/// <summary>An event inside a span.</summary>
public sealed record SpanEventRecord(string Name, long TimeUnixNano, IReadOnlyList<TelemetryAttribute> Attributes);

/// <summary>A link from a span to another span, possibly in another trace.</summary>
public sealed record SpanLinkRecord(string TraceId, string SpanId, IReadOnlyList<TelemetryAttribute> Attributes);

/// <summary>One received span; ids are lower-case hex as in W3C trace context.</summary>
/// <param name="Peer">The peer the span belongs to: its <c>testbed.peer</c> attribute, else the source's name.</param>
public sealed record SpanRecord(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    string Kind,
    long StartUnixNano,
    long EndUnixNano,
    string Status,
    string? StatusMessage,
    string Source,
    string ServiceName,
    string Peer,
    string Scope,
    IReadOnlyList<TelemetryAttribute> Attributes,
    IReadOnlyList<SpanEventRecord> Events,
    IReadOnlyList<SpanLinkRecord> Links)
{
    /// <summary>Duration in milliseconds (0 when the end precedes the start).</summary>
    public double DurationMs => Math.Max(0, EndUnixNano - StartUnixNano) / 1e6;

    /// <summary>The span as received, kept so an export is the sender's data, not a re-rendering.</summary>
    [JsonIgnore]
    internal ReceivedSpan? Received { get; init; }

    /// <summary>The value of attribute <paramref name="key"/>, or null.</summary>
    public string? Attribute(string key)
    {
        foreach (var attribute in Attributes)
        {
            if (attribute.Key == key)
            {
                return attribute.Value;
            }
        }

        return null;
    }
}

/// <summary>The protobuf span with the resource and scope it came with (shared by the spans of one batch).</summary>
internal sealed record ReceivedSpan(
    Protocol.Trace.Span Span,
    Protocol.Resource.Resource? Resource,
    Protocol.Common.InstrumentationScope? Scope);
