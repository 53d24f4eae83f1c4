using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;

namespace Testbed.Dashboard.Ingest;

/// <summary>
/// OTLP/JSON: the protobuf JSON mapping with two OTLP rules on top, trace and span ids as hex (not
/// base64) and enums as integers. Reading and writing go through the protobuf JSON codec, with the
/// id fields translated on the way.
/// </summary>
public static class OtlpJson
{
    private static readonly HashSet<string> IdFields = new(StringComparer.Ordinal)
    {
        "traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id",
    };

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true).WithRecursionLimit(64));

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatEnumsAsIntegers(true));

    /// <summary>Parses an OTLP/JSON body; throws <see cref="OtlpPayloadException"/> saying what is wrong.</summary>
    public static T Parse<T>(ReadOnlySpan<byte> utf8Json, MessageParser<T> parser)
        where T : IMessage<T>
    {
        _ = parser;
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(utf8Json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new OtlpPayloadException($"The body is not valid JSON: {e.Message}", e);
        }

        if (root is not JsonObject)
        {
            throw new OtlpPayloadException("The body must be a JSON object (an OTLP Export*ServiceRequest).");
        }

        Translate(root, HexToBase64);
        try
        {
            var message = (T)Activator.CreateInstance(typeof(T))!;
            return (T)Parser.Parse(root.ToJsonString(), message.Descriptor);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or FormatException)
        {
            throw new OtlpPayloadException($"The JSON is not an OTLP {typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>Renders a message as OTLP/JSON (hex ids, integer enums).</summary>
    public static JsonNode Format(IMessage message)
    {
        var root = JsonNode.Parse(Formatter.Format(message))!;
        Translate(root, Base64ToHex);
        return root;
    }

    private static void Translate(JsonNode node, Func<string, string, string> convert)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToArray())
                {
                    if (value is JsonValue scalar && IdFields.Contains(key) && scalar.TryGetValue<string>(out var text))
                    {
                        obj[key] = convert(key, text);
                    }
                    else if (value is not null)
                    {
                        Translate(value, convert);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        Translate(item, convert);
                    }
                }

                break;
            default:
                break;
        }
    }

    private static string HexToBase64(string field, string hex)
    {
        if (hex.Length == 0)
        {
            return "";
        }

        try
        {
            return Convert.ToBase64String(Convert.FromHexString(hex));
        }
        catch (FormatException)
        {
            throw new OtlpPayloadException($"OTLP/JSON field {field} must be hex, not '{(hex.Length > 64 ? hex[..64] + "…" : hex)}'.");
        }
    }

    private static string Base64ToHex(string field, string base64)
    {
        _ = field;
        return base64.Length == 0 ? "" : Convert.ToHexStringLower(Convert.FromBase64String(base64));
    }
}
