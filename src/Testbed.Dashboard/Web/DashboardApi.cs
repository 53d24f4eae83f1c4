using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Testbed.Dashboard.ControlPlane;
using Testbed.Dashboard.Ingest;
using Testbed.Dashboard.Query;
using Testbed.Dashboard.Storage;

namespace Testbed.Dashboard.Web;

/// <summary>Body of every 4xx/5xx answer of the dashboard API: what was wrong, in words.</summary>
public sealed record DashboardError(string Error);

/// <summary>Counters shown in the header and polled by the UI to refresh only what changed.</summary>
public sealed record DashboardOverview(
    long TraceVersion,
    long LogVersion,
    long MetricVersion,
    int Traces,
    long Spans,
    long DroppedSpans,
    long EvictedTraces,
    int Logs,
    int MetricSeries,
    long DroppedMetricSeries,
    long Requests,
    long SpansReceived,
    long LogsReceived,
    long PointsReceived,
    bool ControlApi,
    object? Forwarding,
    TelemetryLimits Limits,
    string OtlpGrpcUrl,
    string OtlpHttpUrl);

/// <summary>A trace with its spans, and the chaos faults that overlap it in time.</summary>
public sealed record TraceDetail(string TraceId, IReadOnlyList<Telemetry.SpanRecord> Spans, IReadOnlyList<FaultMark> Faults, int LogCount);

/// <summary>The trace list answer: the page and how many traces matched in all.</summary>
public sealed record TraceList(IReadOnlyList<TraceSummary> Traces, int Matched, int Stored);

/// <summary>The JSON query API under /api, served on the UI listener.</summary>
internal static class DashboardApi
{
    public const int MaxLimit = 10_000;

    public static void Map(IEndpointRouteBuilder routes, TelemetryIngest telemetry, ControlApiClient control, Func<(string Grpc, string Http)> otlpUrls)
    {
        var api = routes.MapGroup("/api");

        api.MapGet("/overview", () =>
        {
            var (traces, spans, dropped, evicted) = telemetry.Traces.Counts();
            var (series, droppedSeries) = telemetry.Metrics.Counts();
            var received = telemetry.Received;
            var (grpc, http) = otlpUrls();
            return Results.Json(new DashboardOverview(
                telemetry.Traces.Version, telemetry.Logs.Version, telemetry.Metrics.Version,
                traces, spans, dropped, evicted, telemetry.Logs.Count, series, droppedSeries,
                received.Requests, received.Spans, received.Logs, received.Points,
                control.BaseUrl is not null, telemetry.Forwarding, telemetry.Limits, grpc, http));
        });

        api.MapGet("/resources", async (CancellationToken ct) => Pass(await control.ResourcesAsync(ct)));
        api.MapGet("/resources/{name}/console", async (string name, string? tail, CancellationToken ct) =>
            ParseInt(tail, "tail", 200, 0, 10_000, out var count) is { } error ? error : Pass(await control.ConsoleAsync(name, count, ct)));
        api.MapPost("/resources/{name}/commands/{command}", async (string name, string command, CancellationToken ct) =>
            Pass(await control.CommandAsync(name, command, ct)));

        api.MapGet("/traces", (string? resource, string? name, string? attr, string? minMs, string? maxMs, string? limit) =>
        {
            if (ParseInt(limit, "limit", 200, 1, MaxLimit, out var take) is { } e1)
            {
                return e1;
            }

            if (ParseDouble(minMs, "minMs", out var min) is { } e2)
            {
                return e2;
            }

            if (ParseDouble(maxMs, "maxMs", out var max) is { } e3)
            {
                return e3;
            }

            var (page, matched) = telemetry.Traces.Query(new TraceFilter(resource, name, attr, min, max, take));
            return Results.Json(new TraceList(page, matched, telemetry.Traces.Counts().Traces));
        });

        api.MapGet("/traces/{traceId}", (string traceId) =>
        {
            if (!IsTraceId(traceId))
            {
                return Error(StatusCodes.Status400BadRequest, $"'{Short(traceId)}' is not a trace id (32 hex digits).");
            }

            var spans = telemetry.Traces.Get(traceId);
            if (spans is null)
            {
                return Error(StatusCodes.Status404NotFound, $"Trace {traceId} is not kept (never received, or evicted by the store limits).");
            }

            var start = spans.Min(s => s.StartUnixNano) / 1e6;
            var end = spans.Max(s => s.EndUnixNano) / 1e6;
            var faults = PeerComparison.Faults(telemetry.Traces).Where(f => f.TraceId != traceId && f.Overlaps(start, end, 1000)).ToArray();
            var logs = telemetry.Logs.Query(new LogFilter(TraceId: traceId, Limit: MaxLimit)).Count;
            return Results.Json(new TraceDetail(traceId.ToLowerInvariant(), spans, faults, logs));
        });

        api.MapGet("/export", (string? traceIds) =>
        {
            var ids = (traceIds ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (ids.Length == 0 || ids.Length > TraceExport.MaxTraces || ids.Any(id => !IsTraceId(id)))
            {
                return Error(StatusCodes.Status400BadRequest,
                    $"traceIds must be 1 to {TraceExport.MaxTraces} comma-separated trace ids (32 hex digits each).");
            }

            var request = TraceExport.Build(telemetry.Traces, ids, out var missing);
            if (missing.Count == ids.Length)
            {
                return Error(StatusCodes.Status404NotFound, $"None of the {ids.Length} traces is kept.");
            }

            return Results.Text(TraceExport.ToJson(request).ToJsonString(), "application/json");
        });

        api.MapGet("/logs", (string? resource, string? level, string? text, string? traceId, string? after, string? limit) =>
        {
            if (ParseInt(limit, "limit", 500, 1, MaxLimit, out var take) is { } e1)
            {
                return e1;
            }

            if (!long.TryParse(after ?? "-1", NumberStyles.Integer, CultureInfo.InvariantCulture, out var afterSequence))
            {
                return Error(StatusCodes.Status400BadRequest, $"after must be an integer, not '{Short(after!)}'.");
            }

            if (MinSeverity(level) is not { } minimum)
            {
                return Error(StatusCodes.Status400BadRequest,
                    $"level must be one of trace, debug, information, warning, error, critical, not '{Short(level!)}'.");
            }

            return Results.Json(telemetry.Logs.Query(new LogFilter(resource, minimum, text, traceId, afterSequence, take)));
        });

        api.MapGet("/metrics", () => Results.Json(telemetry.Metrics.Catalog()
            .Select(m => new { m.Metric.Name, m.Metric.Unit, m.Metric.Description, m.Metric.Kind, m.Sources })));
        api.MapGet("/metrics/series", (string? name, string? resource) => string.IsNullOrWhiteSpace(name)
            ? Error(StatusCodes.Status400BadRequest, "name (a metric name) is required.")
            : Results.Json(telemetry.Metrics.Get(name, string.IsNullOrWhiteSpace(resource) ? null : resource)));

        api.MapGet("/blocks", (string? limit) => ParseInt(limit, "limit", 100, 1, MaxLimit, out var take) is { } error
            ? error
            : Results.Json(PeerComparison.List(telemetry.Traces, take)));
        api.MapGet("/blocks/{traceId}", (string traceId) =>
        {
            if (!IsTraceId(traceId))
            {
                return Error(StatusCodes.Status400BadRequest, $"'{Short(traceId)}' is not a trace id (32 hex digits).");
            }

            var blocks = PeerComparison.ForTrace(telemetry.Traces, traceId.ToLowerInvariant());
            return blocks.Count == 0
                ? Error(StatusCodes.Status404NotFound, $"Trace {traceId} is not kept or has no span with a block.hash.")
                : Results.Json(blocks);
        });

        api.MapGet("/chain", () => Results.Json(ChainView.Build(telemetry.Traces)));
        api.MapGet("/faults", () => Results.Json(PeerComparison.Faults(telemetry.Traces)));
        api.MapGet("/sources", () => Results.Json(telemetry.Sources()));
    }

    private static IResult Pass(ControlApiAnswer answer) => Results.Content(answer.Body, answer.ContentType, statusCode: answer.Status);

    private static IResult Error(int status, string message) => Results.Json(new DashboardError(message), statusCode: status);

    private static IResult? ParseInt(string? text, string name, int fallback, int min, int max, out int value)
    {
        value = fallback;
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) || value < min || value > max)
        {
            return Error(StatusCodes.Status400BadRequest, $"{name} must be an integer between {min} and {max}, not '{Short(text)}'.");
        }

        return null;
    }

    private static IResult? ParseDouble(string? text, string name, out double? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) || !double.IsFinite(parsed) || parsed < 0)
        {
            return Error(StatusCodes.Status400BadRequest, $"{name} must be a non-negative number of milliseconds, not '{Short(text)}'.");
        }

        value = parsed;
        return null;
    }

    private static int? MinSeverity(string? level) => (level ?? "").Trim().ToLowerInvariant() switch
    {
        "" or "all" or "trace" => 0,
        "debug" => 5,
        "information" or "info" => 9,
        "warning" or "warn" => 13,
        "error" => 17,
        "critical" or "fatal" => 21,
        _ => null,
    };

    private static bool IsTraceId(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigit);

    private static string Short(string text) => text.Length > 64 ? text[..64] + "…" : text;
}
