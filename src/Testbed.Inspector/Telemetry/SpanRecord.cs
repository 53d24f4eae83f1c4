namespace Testbed.Inspector.Telemetry;

/// <summary>One attribute as the inspector keeps it: the key and the value rendered as text (the dashboard's API sends text).</summary>
public sealed record SpanAttribute(string Key, string Value);

/// <summary>One span read back from the dashboard; ids are lower-case hex as in W3C trace context.</summary>
/// <param name="Peer">The peer the span belongs to: its <c>testbed.peer</c> attribute, else the resource's <c>service.name</c>.</param>
/// <param name="Status">Unset, Ok or Error.</param>
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
    string ServiceName,
    string? InstanceId,
    string Peer,
    string Scope,
    IReadOnlyList<SpanAttribute> Attributes)
{
    /// <summary>Attribute that names the peer a span belongs to (the telemetry contract).</summary>
    public const string PeerAttribute = "testbed.peer";

    /// <summary>Duration in milliseconds (0 when the end precedes the start).</summary>
    public double DurationMs => Math.Max(0, EndUnixNano - StartUnixNano) / 1e6;

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
