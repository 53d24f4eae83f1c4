using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Testbed.Dashboard.Protocol.Common;
using Testbed.Dashboard.Telemetry;
using ProtoResource = Testbed.Dashboard.Protocol.Resource.Resource;
using ProtoSpan = Testbed.Dashboard.Protocol.Trace.Span;

namespace Testbed.Dashboard.Ingest;

/// <summary>Turns OTLP protobuf messages into the dashboard's records, cutting every list and value at the limits.</summary>
internal sealed class OtlpConverter(TelemetryLimits limits)
{
    /// <summary>Attribute naming the peer a span or log belongs to (DESIGN.md telemetry contract).</summary>
    public const string PeerAttribute = "testbed.peer";

    /// <summary>Nesting depth of attribute values rendered; deeper values show as "…".</summary>
    private const int MaxValueDepth = 8;

    public TelemetrySource Source(ProtoResource? resource)
    {
        if (resource is null || resource.Attributes.Count == 0)
        {
            return TelemetrySource.Unknown;
        }

        var attributes = Attributes(resource.Attributes);
        string? service = null, instance = null;
        foreach (var attribute in attributes)
        {
            if (attribute.Key == "service.name")
            {
                service = attribute.Value;
            }
            else if (attribute.Key == "service.instance.id")
            {
                instance = attribute.Value;
            }
        }

        service = string.IsNullOrEmpty(service) ? "unknown_service" : service;
        return new TelemetrySource(string.IsNullOrEmpty(instance) ? service : instance, service, instance, attributes);
    }

    /// <summary>Converts one span; null with a reason when its ids are not valid OTLP ids.</summary>
    public SpanRecord? Span(ProtoSpan span, TelemetrySource source, string scope, ReceivedSpan received, out string? rejection)
    {
        if (span.TraceId.Length != 16 || IsAllZero(span.TraceId.Span))
        {
            rejection = $"span '{Cut(span.Name)}' has a trace_id of {span.TraceId.Length} bytes (must be 16, not all zero)";
            return null;
        }

        if (span.SpanId.Length != 8 || IsAllZero(span.SpanId.Span))
        {
            rejection = $"span '{Cut(span.Name)}' has a span_id of {span.SpanId.Length} bytes (must be 8, not all zero)";
            return null;
        }

        if (span.ParentSpanId.Length is not (0 or 8))
        {
            rejection = $"span '{Cut(span.Name)}' has a parent_span_id of {span.ParentSpanId.Length} bytes (must be empty or 8)";
            return null;
        }

        rejection = null;
        var attributes = Attributes(span.Attributes);
        var peer = source.Name;
        foreach (var attribute in attributes)
        {
            if (attribute.Key == PeerAttribute && attribute.Value.Length > 0)
            {
                peer = attribute.Value;
                break;
            }
        }

        var events = span.Events.Count == 0 ? [] : span.Events.Take(limits.MaxAttributes)
            .Select(e => new SpanEventRecord(Cut(e.Name), (long)e.TimeUnixNano, Attributes(e.Attributes))).ToArray();
        var links = span.Links.Count == 0 ? [] : span.Links.Take(limits.MaxAttributes)
            .Select(l => new SpanLinkRecord(Hex(l.TraceId), Hex(l.SpanId), Attributes(l.Attributes))).ToArray();
        var status = span.Status?.Code switch
        {
            Protocol.Trace.Status.Types.StatusCode.Ok => "Ok",
            Protocol.Trace.Status.Types.StatusCode.Error => "Error",
            _ => "Unset",
        };

        return new SpanRecord(
            Convert.ToHexStringLower(span.TraceId.Span),
            Convert.ToHexStringLower(span.SpanId.Span),
            span.ParentSpanId.Length == 0 ? null : Convert.ToHexStringLower(span.ParentSpanId.Span),
            Cut(span.Name),
            KindName(span.Kind),
            (long)span.StartTimeUnixNano,
            (long)span.EndTimeUnixNano,
            status,
            string.IsNullOrEmpty(span.Status?.Message) ? null : Cut(span.Status.Message),
            source.Name,
            source.ServiceName,
            peer,
            scope,
            attributes,
            events,
            links)
        {
            Received = received,
        };
    }

    public IReadOnlyList<TelemetryAttribute> Attributes(RepeatedField<KeyValue> keyValues)
    {
        if (keyValues.Count == 0)
        {
            return [];
        }

        var count = Math.Min(keyValues.Count, limits.MaxAttributes);
        var result = new TelemetryAttribute[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = new TelemetryAttribute(Cut(keyValues[i].Key), Render(keyValues[i].Value));
        }

        return result;
    }

    /// <summary>Renders an attribute value or log body as text, bounded in length and depth.</summary>
    public string Render(AnyValue? value)
    {
        if (value is null)
        {
            return "";
        }

        if (value.ValueCase == AnyValue.ValueOneofCase.StringValue)
        {
            return Cut(value.StringValue);
        }

        var builder = new StringBuilder();
        Append(builder, value, 0);
        return Cut(builder.ToString());
    }

    public string Cut(string text) =>
        text.Length <= limits.MaxValueLength ? text : string.Concat(text.AsSpan(0, limits.MaxValueLength), "…");

    public static string Hex(ByteString bytes) => bytes.Length == 0 ? "" : Convert.ToHexStringLower(bytes.Span);

    public static string KindName(ProtoSpan.Types.SpanKind kind) => kind switch
    {
        ProtoSpan.Types.SpanKind.Server => "Server",
        ProtoSpan.Types.SpanKind.Client => "Client",
        ProtoSpan.Types.SpanKind.Producer => "Producer",
        ProtoSpan.Types.SpanKind.Consumer => "Consumer",
        _ => "Internal",
    };

    /// <summary>The .NET level name of an OTLP severity number (1-4 Trace ... 21-24 Critical).</summary>
    public static string LevelName(int severityNumber) => severityNumber switch
    {
        >= 21 => "Critical",
        >= 17 => "Error",
        >= 13 => "Warning",
        >= 9 => "Information",
        >= 5 => "Debug",
        >= 1 => "Trace",
        _ => "Unspecified",
    };

    private void Append(StringBuilder builder, AnyValue value, int depth)
    {
        if (builder.Length > limits.MaxValueLength)
        {
            return;
        }

        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                builder.Append(depth == 0 ? value.StringValue : Quote(value.StringValue));
                break;
            case AnyValue.ValueOneofCase.BoolValue:
                builder.Append(value.BoolValue ? "true" : "false");
                break;
            case AnyValue.ValueOneofCase.IntValue:
                builder.Append(value.IntValue.ToString(CultureInfo.InvariantCulture));
                break;
            case AnyValue.ValueOneofCase.DoubleValue:
                builder.Append(value.DoubleValue.ToString("R", CultureInfo.InvariantCulture));
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                builder.Append(Convert.ToBase64String(value.BytesValue.Span));
                break;
            case AnyValue.ValueOneofCase.ArrayValue when depth < MaxValueDepth:
                builder.Append('[');
                for (var i = 0; i < value.ArrayValue.Values.Count && builder.Length <= limits.MaxValueLength; i++)
                {
                    builder.Append(i == 0 ? "" : ", ");
                    Append(builder, value.ArrayValue.Values[i], depth + 1);
                }

                builder.Append(']');
                break;
            case AnyValue.ValueOneofCase.KvlistValue when depth < MaxValueDepth:
                builder.Append('{');
                for (var i = 0; i < value.KvlistValue.Values.Count && builder.Length <= limits.MaxValueLength; i++)
                {
                    builder.Append(i == 0 ? "" : ", ").Append(Quote(value.KvlistValue.Values[i].Key)).Append(": ");
                    Append(builder, value.KvlistValue.Values[i].Value ?? new AnyValue(), depth + 1);
                }

                builder.Append('}');
                break;
            case AnyValue.ValueOneofCase.ArrayValue or AnyValue.ValueOneofCase.KvlistValue:
                builder.Append('…');
                break;
            default:
                break;
        }
    }

    private static string Quote(string text) => "\"" + text.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static bool IsAllZero(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExcept((byte)0);
}
