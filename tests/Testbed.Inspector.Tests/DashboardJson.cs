using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Testbed.Inspector.Tests;

/// <summary>
/// Renders ended activities the way the Aspire dashboard's telemetry API answers (observed on the 13.6.5 binary): OTLP JSON
/// grouped by resource and scope, ids in lower-case hex, times as strings of Unix nanoseconds, kind and status code as
/// integers, and every attribute as a <c>stringValue</c>.
/// </summary>
internal static class DashboardJson
{
    /// <summary>The body of <c>GET /api/telemetry/spans</c>: <c>{"data":{"resourceSpans":[...]},"totalCount":N,"returnedCount":N}</c>.</summary>
    public static byte[] ApiResponse(IReadOnlyDictionary<string, List<Activity>> byService)
    {
        var count = byService.Values.Sum(a => a.Count);
        var root = new JsonObject { ["data"] = Data(byService), ["totalCount"] = count, ["returnedCount"] = count };
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    /// <summary>The lines of <c>GET /api/telemetry/spans?follow=true</c>: one <c>{"resourceSpans":[...]}</c> per span.</summary>
    public static IEnumerable<string> StreamLines(IReadOnlyDictionary<string, List<Activity>> byService) =>
        byService.SelectMany(service => service.Value.Select(activity => (service.Key, activity)))
            .OrderBy(pair => pair.activity.StartTimeUtc)
            .Select(pair => Data(new Dictionary<string, List<Activity>> { [pair.Key] = [pair.activity] }).ToJsonString());

    private static JsonObject Data(IReadOnlyDictionary<string, List<Activity>> byService)
    {
        var resourceSpans = new JsonArray();
        foreach (var (service, activities) in byService)
        {
            if (activities.Count == 0)
            {
                continue;
            }

            var scopeSpans = new JsonArray();
            foreach (var scope in activities.GroupBy(a => a.Source.Name))
            {
                scopeSpans.Add(new JsonObject
                {
                    ["scope"] = new JsonObject { ["name"] = scope.Key },
                    ["spans"] = new JsonArray(scope.Select(Span).ToArray()),
                });
            }

            resourceSpans.Add(new JsonObject
            {
                ["scopeSpans"] = scopeSpans,
                ["resource"] = new JsonObject
                {
                    ["attributes"] = new JsonArray(Attribute("service.name", service), Attribute("service.instance.id", service + "-1")),
                },
            });
        }

        return new JsonObject { ["resourceSpans"] = resourceSpans };
    }

    private static JsonNode Span(Activity activity)
    {
        var span = new JsonObject
        {
            ["traceId"] = activity.TraceId.ToHexString(),
            ["spanId"] = activity.SpanId.ToHexString(),
        };
        if (activity.ParentSpanId != default)
        {
            span["parentSpanId"] = activity.ParentSpanId.ToHexString();
        }

        span["name"] = activity.DisplayName;
        span["kind"] = (int)activity.Kind + 1;
        span["startTimeUnixNano"] = UnixNano(activity.StartTimeUtc);
        span["endTimeUnixNano"] = UnixNano(activity.StartTimeUtc + activity.Duration);
        span["attributes"] = new JsonArray(activity.TagObjects.Select(t => Attribute(t.Key, Text(t.Value))).ToArray());
        if (activity.Status != ActivityStatusCode.Unset)
        {
            span["status"] = new JsonObject { ["message"] = activity.StatusDescription, ["code"] = (int)activity.Status };
        }

        return span;
    }

    private static JsonNode Attribute(string key, string value) =>
        new JsonObject { ["key"] = key, ["value"] = new JsonObject { ["stringValue"] = value } };

    private static string Text(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string UnixNano(DateTime utc) =>
        ((utc.Ticks - DateTime.UnixEpoch.Ticks) * 100).ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses <paramref name="json"/> to check a test's hand-written body is at least JSON.</summary>
    public static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
