using System.Text.Json.Nodes;
using Testbed.Dashboard.Ingest;
using Testbed.Dashboard.Protocol.Collector.Trace;
using Testbed.Dashboard.Protocol.Trace;
using Testbed.Dashboard.Storage;

namespace Testbed.Dashboard.Query;

/// <summary>Exports kept traces as one OTLP/JSON ExportTraceServiceRequest, the spans exactly as received.</summary>
public static class TraceExport
{
    /// <summary>Most traces one export takes.</summary>
    public const int MaxTraces = 1_000;

    /// <summary>The request holding every span of <paramref name="traceIds"/> still kept; unknown ids are listed in <paramref name="missing"/>.</summary>
    public static ExportTraceServiceRequest Build(TraceStore traces, IEnumerable<string> traceIds, out IReadOnlyList<string> missing)
    {
        var request = new ExportTraceServiceRequest();
        // Grouped by object identity: the spans of one received batch share their resource and scope objects.
        var resources = new Dictionary<object, (ResourceSpans Spans, Dictionary<object, ScopeSpans> Scopes)>(ReferenceEqualityComparer.Instance);
        var noResource = new object();
        var noScope = new object();
        var notFound = new List<string>();
        foreach (var traceId in traceIds.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var spans = traces.Get(traceId);
            if (spans is null)
            {
                notFound.Add(traceId);
                continue;
            }

            foreach (var span in spans)
            {
                if (span.Received is not { } received)
                {
                    continue;
                }

                var resourceKey = (object?)received.Resource ?? noResource;
                if (!resources.TryGetValue(resourceKey, out var group))
                {
                    group = (new ResourceSpans { Resource = received.Resource }, new Dictionary<object, ScopeSpans>(ReferenceEqualityComparer.Instance));
                    resources.Add(resourceKey, group);
                    request.ResourceSpans.Add(group.Spans);
                }

                var scopeKey = (object?)received.Scope ?? noScope;
                if (!group.Scopes.TryGetValue(scopeKey, out var scopeSpans))
                {
                    scopeSpans = new ScopeSpans { Scope = received.Scope };
                    group.Scopes.Add(scopeKey, scopeSpans);
                    group.Spans.ScopeSpans.Add(scopeSpans);
                }

                scopeSpans.Spans.Add(received.Span);
            }
        }

        missing = notFound;
        return request;
    }

    /// <summary>The OTLP/JSON text of <see cref="Build"/>.</summary>
    public static JsonNode ToJson(ExportTraceServiceRequest request) => OtlpJson.Format(request);
}
