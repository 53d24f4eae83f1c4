using System.Globalization;
using System.Text;
using System.Text.Json;
using Testbed.Inspector.Telemetry;
using Testbed.Json;

namespace Testbed.Inspector.Dashboard;

/// <summary>A response of the dashboard that is not what its telemetry API sends; the message says what was wrong and where.</summary>
public sealed class TelemetryFormatException(string message) : Exception(message);

/// <summary>Bounds applied while reading spans: spans per response, attributes per span, length of every text.</summary>
public sealed record SpanLimits(int MaxSpans, int MaxAttributes, int MaxValueLength)
{
    /// <summary>The defaults of <see cref="Hosting.InspectorOptions"/>.</summary>
    public static SpanLimits Default { get; } = new(20_000, 64, 1_024);
}

/// <summary>The spans of one response or stream line, with what was refused or cut.</summary>
/// <param name="Rejected">Spans refused one by one (invalid ids, no name, unreadable times); <paramref name="FirstRejection"/> says why the first was.</param>
/// <param name="Truncated">Spans past <see cref="SpanLimits.MaxSpans"/>, not read.</param>
/// <param name="TotalCount">The API's <c>totalCount</c> (spans or traces matching on the dashboard), when sent.</param>
public sealed record SpanBatch(IReadOnlyList<SpanRecord> Spans, int Rejected, int Truncated, string? FirstRejection, int? TotalCount)
{
    public static SpanBatch Empty { get; } = new([], 0, 0, null, null);
}

/// <summary>
/// Reads spans from the OTLP JSON the Aspire dashboard's telemetry API returns: <c>{"data":{"resourceSpans":[...]},
/// "totalCount":N,"returnedCount":N}</c> for <c>GET /api/telemetry/spans</c> and <c>/traces/{id}</c>, and one
/// <c>{"resourceSpans":[...]}</c> object per line of the <c>follow=true</c> NDJSON stream. OTLP/JSON as the protocol
/// specifies it: lower-case hex ids, 64-bit times as strings or numbers, integer enums, unknown fields ignored. The
/// dashboard renders every attribute as a string value; the other value kinds are read too. Written from the protocol
/// specification and the dashboard's observed output, not from the dashboard's code.
/// </summary>
public static class OtlpSpanJson
{
    private const int MaxJsonDepth = 64;
    private const int MaxValueDepth = 8;
    private static readonly string[] Kinds = ["Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"];
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxJsonDepth };

    /// <summary>Reads a telemetry API response (<c>{"data": {...}, "totalCount": N}</c>); <paramref name="source"/> names it in errors.</summary>
    public static SpanBatch ParseApiResponse(ReadOnlyMemory<byte> json, SpanLimits limits, string source)
    {
        ArgumentNullException.ThrowIfNull(limits);
        using var document = Parse(json, source);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new TelemetryFormatException($"{source}: expected a JSON object with 'data', got {JsonKinds.Describe(root.ValueKind)}.");
        }

        if (!root.TryGetProperty("data", out var data))
        {
            throw new TelemetryFormatException($"{source}: the JSON object has no 'data' (the telemetry API answers {{\"data\":{{\"resourceSpans\":[...]}},\"totalCount\":N}}).");
        }

        int? total = root.TryGetProperty("totalCount", out var count) && count.ValueKind == JsonValueKind.Number && count.TryGetInt32(out var n) ? n : null;
        var batch = data.ValueKind == JsonValueKind.Null ? SpanBatch.Empty : ReadData(data, limits, source + ": data");
        return batch with { TotalCount = total };
    }

    /// <summary>Reads one OTLP JSON telemetry object (<c>{"resourceSpans": [...]}</c>), as a line of the follow stream.</summary>
    public static SpanBatch ParseTelemetryData(ReadOnlyMemory<byte> json, SpanLimits limits, string source)
    {
        ArgumentNullException.ThrowIfNull(limits);
        using var document = Parse(json, source);
        return ReadData(document.RootElement, limits, source);
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> json, string source)
    {
        if (json.IsEmpty)
        {
            throw new TelemetryFormatException($"{source}: empty body where OTLP JSON was expected.");
        }

        try
        {
            return JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new TelemetryFormatException($"{source}: not valid JSON ({FirstSentence(e.Message)}).");
        }
    }

    private static SpanBatch ReadData(JsonElement data, SpanLimits limits, string source)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            throw new TelemetryFormatException($"{source}: expected an OTLP telemetry object ({{\"resourceSpans\":[...]}}), got {JsonKinds.Describe(data.ValueKind)}.");
        }

        if (!data.TryGetProperty("resourceSpans", out var resourceSpans) || resourceSpans.ValueKind == JsonValueKind.Null)
        {
            return SpanBatch.Empty;
        }

        if (resourceSpans.ValueKind != JsonValueKind.Array)
        {
            throw new TelemetryFormatException($"{source}: 'resourceSpans' must be an array, got {JsonKinds.Describe(resourceSpans.ValueKind)}.");
        }

        var spans = new List<SpanRecord>();
        var rejected = 0;
        var truncated = 0;
        string? firstRejection = null;
        var r = 0;
        foreach (var resourceSpan in resourceSpans.EnumerateArray())
        {
            var where = $"{source}: resourceSpans[{r++}]";
            if (resourceSpan.ValueKind != JsonValueKind.Object)
            {
                throw new TelemetryFormatException($"{where} must be an object, got {JsonKinds.Describe(resourceSpan.ValueKind)}.");
            }

            var (serviceName, instanceId) = ReadResource(resourceSpan, limits, where);
            if (!resourceSpan.TryGetProperty("scopeSpans", out var scopeSpans) || scopeSpans.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (scopeSpans.ValueKind != JsonValueKind.Array)
            {
                throw new TelemetryFormatException($"{where}.scopeSpans must be an array, got {JsonKinds.Describe(scopeSpans.ValueKind)}.");
            }

            var s = 0;
            foreach (var scopeSpan in scopeSpans.EnumerateArray())
            {
                var scopeWhere = $"{where}.scopeSpans[{s++}]";
                if (scopeSpan.ValueKind != JsonValueKind.Object)
                {
                    throw new TelemetryFormatException($"{scopeWhere} must be an object, got {JsonKinds.Describe(scopeSpan.ValueKind)}.");
                }

                var scope = scopeSpan.TryGetProperty("scope", out var scopeElement) && scopeElement.ValueKind == JsonValueKind.Object
                    && scopeElement.TryGetProperty("name", out var scopeName) && scopeName.ValueKind == JsonValueKind.String
                    ? Cut(scopeName.GetString()!, limits.MaxValueLength)
                    : "";
                if (!scopeSpan.TryGetProperty("spans", out var spanArray) || spanArray.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                if (spanArray.ValueKind != JsonValueKind.Array)
                {
                    throw new TelemetryFormatException($"{scopeWhere}.spans must be an array, got {JsonKinds.Describe(spanArray.ValueKind)}.");
                }

                var i = 0;
                foreach (var element in spanArray.EnumerateArray())
                {
                    var spanWhere = $"{scopeWhere}.spans[{i++}]";
                    if (spans.Count >= limits.MaxSpans)
                    {
                        truncated++;
                        continue;
                    }

                    var (span, error) = ReadSpan(element, serviceName, instanceId, scope, limits);
                    if (span is not null)
                    {
                        spans.Add(span);
                    }
                    else
                    {
                        rejected++;
                        firstRejection ??= $"{spanWhere}: {error}";
                    }
                }
            }
        }

        return new SpanBatch(spans, rejected, truncated, firstRejection, null);
    }

    private static (string ServiceName, string? InstanceId) ReadResource(JsonElement resourceSpan, SpanLimits limits, string where)
    {
        string? serviceName = null, instanceId = null;
        if (resourceSpan.TryGetProperty("resource", out var resource) && resource.ValueKind == JsonValueKind.Object
            && resource.TryGetProperty("attributes", out var attributes))
        {
            if (attributes.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null))
            {
                throw new TelemetryFormatException($"{where}.resource.attributes must be an array, got {JsonKinds.Describe(attributes.ValueKind)}.");
            }

            foreach (var attribute in ReadAttributes(attributes, int.MaxValue, limits.MaxValueLength))
            {
                if (attribute.Key == "service.name")
                {
                    serviceName = attribute.Value;
                }
                else if (attribute.Key == "service.instance.id")
                {
                    instanceId = attribute.Value;
                }
            }
        }

        return (string.IsNullOrEmpty(serviceName) ? "unknown_service" : serviceName, string.IsNullOrEmpty(instanceId) ? null : instanceId);
    }

    private static (SpanRecord? Span, string? Error) ReadSpan(JsonElement span, string serviceName, string? instanceId, string scope, SpanLimits limits)
    {
        if (span.ValueKind != JsonValueKind.Object)
        {
            return (null, $"a span must be an object, got {JsonKinds.Describe(span.ValueKind)}");
        }

        var traceId = HexId(span, "traceId", 32);
        if (traceId is null)
        {
            return (null, "traceId must be 32 hex digits, not all zero");
        }

        var spanId = HexId(span, "spanId", 16);
        if (spanId is null)
        {
            return (null, "spanId must be 16 hex digits, not all zero");
        }

        if (!span.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String || nameElement.GetString() is not { Length: > 0 } name)
        {
            return (null, "the span has no name");
        }

        if (!TryUnixNano(span, "startTimeUnixNano", out var start) || !TryUnixNano(span, "endTimeUnixNano", out var end))
        {
            return (null, "startTimeUnixNano and endTimeUnixNano must be unsigned 64-bit integers (strings or numbers)");
        }

        var kind = span.TryGetProperty("kind", out var kindElement) && kindElement.ValueKind == JsonValueKind.Number
            && kindElement.TryGetInt32(out var k) && k >= 0 && k < Kinds.Length ? Kinds[k] : "Unspecified";
        var (status, message) = ReadStatus(span, limits);
        var attributes = span.TryGetProperty("attributes", out var attributeArray)
            ? ReadAttributes(attributeArray, limits.MaxAttributes, limits.MaxValueLength)
            : [];
        var peer = attributes.FirstOrDefault(a => a.Key == SpanRecord.PeerAttribute)?.Value;
        var parent = HexId(span, "parentSpanId", 16);
        return (new SpanRecord(traceId, spanId, parent, Cut(name, limits.MaxValueLength), kind, start, Math.Max(start, end), status, message,
            serviceName, instanceId, string.IsNullOrEmpty(peer) ? serviceName : peer, scope, attributes), null);
    }

    private static (string Status, string? Message) ReadStatus(JsonElement span, SpanLimits limits)
    {
        if (!span.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.Object)
        {
            return ("Unset", null);
        }

        var code = 0;
        if (status.TryGetProperty("code", out var codeElement))
        {
            if (codeElement.ValueKind == JsonValueKind.Number && codeElement.TryGetInt32(out var c))
            {
                code = c;
            }
            else if (codeElement.ValueKind == JsonValueKind.String)
            {
                code = codeElement.GetString() switch
                {
                    "STATUS_CODE_OK" => 1,
                    "STATUS_CODE_ERROR" => 2,
                    _ => 0,
                };
            }
        }

        var message = status.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() is { Length: > 0 } text
            ? Cut(text, limits.MaxValueLength)
            : null;
        return (code switch { 1 => "Ok", 2 => "Error", _ => "Unset" }, message);
    }

    private static List<SpanAttribute> ReadAttributes(JsonElement array, int maxAttributes, int maxValueLength)
    {
        var result = new List<SpanAttribute>();
        if (array.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (var item in array.EnumerateArray())
        {
            if (result.Count >= maxAttributes)
            {
                break;
            }

            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("key", out var keyElement)
                || keyElement.ValueKind != JsonValueKind.String || keyElement.GetString() is not { Length: > 0 } key)
            {
                continue;
            }

            var value = new StringBuilder();
            if (item.TryGetProperty("value", out var valueElement))
            {
                AppendAnyValue(value, valueElement, maxValueLength, 0);
            }

            result.Add(new SpanAttribute(Cut(key, maxValueLength), Cut(value.ToString(), maxValueLength)));
        }

        return result;
    }

    /// <summary>Renders an OTLP AnyValue as text, stopping once <paramref name="max"/> characters are written.</summary>
    private static void AppendAnyValue(StringBuilder text, JsonElement value, int max, int depth)
    {
        if (text.Length > max || value.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in value.EnumerateObject())
        {
            switch (property.Name)
            {
                case "stringValue" or "bytesValue" when property.Value.ValueKind == JsonValueKind.String:
                    var s = property.Value.GetString()!;
                    text.Append(s, 0, Math.Min(s.Length, max + 1 - Math.Min(text.Length, max)));
                    return;
                case "boolValue" when property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    text.Append(property.Value.GetBoolean() ? "true" : "false");
                    return;
                case "intValue" or "doubleValue" when property.Value.ValueKind is JsonValueKind.Number or JsonValueKind.String:
                    var raw = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                    text.Append(raw.Length > 64 ? raw[..64] : raw);
                    return;
                case "arrayValue" when depth < MaxValueDepth:
                    text.Append('[');
                    if (property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("values", out var values) && values.ValueKind == JsonValueKind.Array)
                    {
                        var first = true;
                        foreach (var element in values.EnumerateArray())
                        {
                            if (text.Length > max)
                            {
                                return;
                            }

                            text.Append(first ? "" : ", ");
                            first = false;
                            AppendAnyValue(text, element, max, depth + 1);
                        }
                    }

                    text.Append(']');
                    return;
                case "kvlistValue" when depth < MaxValueDepth:
                    text.Append('{');
                    if (property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("values", out var pairs) && pairs.ValueKind == JsonValueKind.Array)
                    {
                        var first = true;
                        foreach (var pair in pairs.EnumerateArray())
                        {
                            if (text.Length > max)
                            {
                                return;
                            }

                            if (pair.ValueKind != JsonValueKind.Object)
                            {
                                continue;
                            }

                            text.Append(first ? "" : ", ");
                            first = false;
                            text.Append(pair.TryGetProperty("key", out var key) && key.ValueKind == JsonValueKind.String ? key.GetString() : "");
                            text.Append('=');
                            if (pair.TryGetProperty("value", out var pairValue))
                            {
                                AppendAnyValue(text, pairValue, max, depth + 1);
                            }
                        }
                    }

                    text.Append('}');
                    return;
            }
        }
    }

    private static string? HexId(JsonElement span, string property, int length)
    {
        if (!span.TryGetProperty(property, out var element) || element.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var text = element.GetString()!;
        if (text.Length != length)
        {
            return null;
        }

        var allZero = true;
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return null;
            }

            allZero &= c == '0';
        }

        return allZero ? null : text.ToLowerInvariant();
    }

    private static bool TryUnixNano(JsonElement span, string property, out long value)
    {
        value = 0;
        if (!span.TryGetProperty(property, out var element))
        {
            return false;
        }

        ulong parsed;
        if (element.ValueKind == JsonValueKind.String)
        {
            if (!ulong.TryParse(element.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out parsed))
            {
                return false;
            }
        }
        else if (element.ValueKind != JsonValueKind.Number || !element.TryGetUInt64(out parsed))
        {
            return false;
        }

        value = parsed > long.MaxValue ? long.MaxValue : (long)parsed;
        return true;
    }

    /// <summary>Whether <paramref name="id"/> is a W3C trace id: 32 hex digits, not all zero.</summary>
    public static bool IsTraceId(string? id) =>
        id is { Length: 32 } && id.All(char.IsAsciiHexDigit) && id.Any(c => c != '0');

    private static string Cut(string text, int max) => text.Length > max ? text[..max] + "…" : text;

    private static string FirstSentence(string message)
    {
        var line = message.Split('\n')[0].Trim();
        return line.Length > 300 ? line[..300] + "…" : line;
    }
}
