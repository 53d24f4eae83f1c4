using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Testbed.Inspector.Dashboard;
using Testbed.Inspector.Hosting;
using Testbed.Inspector.Query;
using Testbed.Inspector.Telemetry;

namespace Testbed.Inspector.Web;

/// <summary>The inspector's pages and JSON API. Errors are problem details (RFC 9457), never stack traces.</summary>
internal static class InspectorApi
{
    public const int MaxLimit = 10_000;

    private static readonly string[] Pages = ["/", "/blocks", "/blocks/{traceId}", "/chain", "/peers", "/peers/{name}"];

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var page in Pages)
        {
            app.MapGet(page, (HttpContext context) => ServeAsync(context, "index.html")).ExcludeFromDescription();
        }

        app.MapGet("/assets/{file}", (HttpContext context, string file) => ServeAsync(context, file));

        var api = app.MapGroup("/api");
        api.MapGet("/status", (DashboardReader reader, SpanStore store, InspectorOptions options, IOptions<JsonOptions> json) =>
            Results.Json(Status(reader.Status(), store.Counts(), options, json.Value.SerializerOptions)));

        api.MapGet("/blocks", (string? limit, SpanStore store, InspectorOptions options) =>
            ParseLimit(limit, 300, out var take) is { } error
                ? error
                : Results.Json(PeerComparison.List(store, take).Select(b => b with { DashboardTraceUrl = TraceUrl(options, b.TraceId) }).ToArray()));

        api.MapGet("/blocks/{traceId}", async (string traceId, SpanStore store, DashboardReader reader, TelemetryApiClient client, InspectorOptions options, CancellationToken cancellationToken) =>
        {
            if (!OtlpSpanJson.IsTraceId(traceId))
            {
                return Problem(StatusCodes.Status400BadRequest, "Bad trace id", $"traceId must be 32 hex digits, not '{Short(traceId)}'.");
            }

            traceId = traceId.ToLowerInvariant();
            var held = store.Get(traceId) is not null;
            var blocks = PeerComparison.ForTrace(store, traceId);
            if (blocks.Count == 0 && !held)
            {
                // Not held (evicted, or older than what the stream replayed): ask the dashboard for this one trace.
                var status = reader.Status();
                if (!status.Reachable)
                {
                    return Problem(StatusCodes.Status404NotFound, "Trace not held",
                        $"Trace {traceId} is not held by the inspector, and the dashboard cannot be asked: {status.Error ?? "not connected yet"}.");
                }

                try
                {
                    var batch = await client.GetTraceAsync(traceId, cancellationToken);
                    reader.MarkRead();
                    if (batch is null)
                    {
                        return Problem(StatusCodes.Status404NotFound, "Trace not found", $"Neither the inspector nor the dashboard holds trace {traceId}.");
                    }

                    store.Add(batch.Spans);
                    blocks = PeerComparison.ForTrace(store, traceId);
                }
                catch (Exception e) when (e is DashboardUnavailableException or TelemetryFormatException)
                {
                    return Problem(StatusCodes.Status502BadGateway, "Dashboard read failed", $"Trace {traceId} is not held, and reading it from the dashboard failed: {e.Message}");
                }
            }

            return blocks.Count == 0
                ? Problem(StatusCodes.Status404NotFound, "No block in trace", $"Trace {traceId} has no span with block.hash.")
                : Results.Json(blocks.Select(b => b with { DashboardTraceUrl = TraceUrl(options, b.TraceId) }).ToArray());
        });

        api.MapGet("/chain", (SpanStore store) => Results.Json(ChainView.Build(store)));
        api.MapGet("/faults", (SpanStore store) => Results.Json(PeerComparison.Faults(store)));
        api.MapGet("/peers", (SpanStore store) => Results.Json(PeerView.List(store)));
        api.MapGet("/peers/{name}", (string name, SpanStore store, InspectorOptions options) =>
        {
            if (name.Length is 0 or > 200 || name.Any(char.IsControl))
            {
                return Problem(StatusCodes.Status400BadRequest, "Bad peer name", "name must be 1 to 200 characters without control characters.");
            }

            var report = PeerView.Build(store, name);
            return report is null
                ? Problem(StatusCodes.Status404NotFound, "Peer not seen", $"No span of peer '{Short(name)}' is held (peers are named by testbed.peer, else service.name).")
                : Results.Json(report with
                {
                    Blocks = report.Blocks.Select(b => b with { DashboardTraceUrl = TraceUrl(options, b.TraceId) }).ToArray(),
                    Failures = report.Failures.Select(f => f with { DashboardTraceUrl = TraceUrl(options, f.TraceId) }).ToArray(),
                });
        });

        api.Map("/{**rest}", (HttpContext context) =>
            Problem(StatusCodes.Status404NotFound, "No such API", $"{Short(context.Request.Method)} {Short(context.Request.Path.Value ?? "")} is not an inspector API; see /api/status, /api/blocks, /api/blocks/{{traceId}}, /api/chain, /api/peers, /api/peers/{{name}}, /api/faults."));
    }

    /// <summary>The trace's page in the Aspire dashboard: <c>{DashboardBrowserUrl}/traces/detail/{traceId}</c>.</summary>
    public static string TraceUrl(InspectorOptions options, string traceId) => new Uri(options.BrowserUri, "traces/detail/" + Uri.EscapeDataString(traceId)).ToString();

    /// <summary>
    /// What <c>/api/status</c> answers: one flat object, the dashboard reading's fields as they are, then what the store
    /// holds and its limits (the UI and the tests read it flat, so the reading is not nested).
    /// </summary>
    private static JsonObject Status(DashboardStatus dashboard, SpanStoreCounts store, InspectorOptions options, JsonSerializerOptions json)
    {
        var status = JsonSerializer.SerializeToNode(dashboard, json)!.AsObject();
        Add(status, json, "TracesHeld", store.Traces);
        Add(status, json, "SpansHeld", store.Spans);
        Add(status, json, "SpansAdded", store.Added);
        Add(status, json, "Duplicates", store.Duplicates);
        Add(status, json, "Ignored", store.Ignored);
        Add(status, json, "DroppedSpans", store.DroppedSpans);
        Add(status, json, "EvictedTraces", store.EvictedTraces);
        Add(status, json, "Version", store.Version);
        Add(status, json, "MaxTraces", options.MaxTraces);
        Add(status, json, "MaxSpans", options.MaxSpans);
        return status;
    }

    private static void Add(JsonObject status, JsonSerializerOptions json, string name, long value) =>
        status[json.PropertyNamingPolicy?.ConvertName(name) ?? name] = value;

    private static async Task ServeAsync(HttpContext context, string file)
    {
        if (!await StaticAssets.TryServeAsync(context, file))
        {
            await Problem(StatusCodes.Status404NotFound, "Not found", $"No asset '{Short(file)}'.").ExecuteAsync(context);
        }
    }

    private static IResult? ParseLimit(string? text, int fallback, out int value)
    {
        value = fallback;
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) || value < 1 || value > MaxLimit)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad limit", $"limit must be an integer between 1 and {MaxLimit}, not '{Short(text)}'.");
        }

        return null;
    }

    private static IResult Problem(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);

    private static string Short(string text) => text.Length > 80 ? text[..80] + "…" : text;
}
