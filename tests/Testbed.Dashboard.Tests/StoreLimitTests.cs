using System.Net.Http.Headers;
using Testbed.Dashboard.Storage;
using Testbed.Dashboard.Telemetry;

namespace Testbed.Dashboard.Tests;

/// <summary>The stores keep what their limits allow and evict the oldest first.</summary>
public sealed class StoreLimitTests
{
    [Fact]
    public void Trace_store_evicts_the_oldest_trace_past_the_trace_limit()
    {
        var store = new TraceStore(new TelemetryLimits { MaxTraces = 3 });
        for (var i = 0; i < 5; i++)
        {
            store.Add([Span(TraceId(i), "1", i)]);
        }

        Assert.Null(store.Get(TraceId(0)));
        Assert.Null(store.Get(TraceId(1)));
        Assert.NotNull(store.Get(TraceId(4)));
        var (traces, spans, _, evicted) = store.Counts();
        Assert.Equal((3, 3L, 2L), (traces, spans, evicted));
        Assert.Equal([TraceId(4), TraceId(3), TraceId(2)], store.Query(new TraceFilter()).Traces.Select(t => t.TraceId));
    }

    [Fact]
    public void Trace_store_evicts_oldest_traces_past_the_span_limit_and_drops_spans_past_the_per_trace_limit()
    {
        var store = new TraceStore(new TelemetryLimits { MaxSpans = 10, MaxSpansPerTrace = 4 });
        store.Add([.. Enumerable.Range(0, 6).Select(i => Span(TraceId(0), i.ToString("x"), i))]);
        var (traces, spans, dropped, _) = store.Counts();
        Assert.Equal((1, 4L, 2L), (traces, spans, dropped));

        store.Add([.. Enumerable.Range(0, 4).Select(i => Span(TraceId(1), i.ToString("x"), i))]);
        store.Add([.. Enumerable.Range(0, 4).Select(i => Span(TraceId(2), i.ToString("x"), i))]);
        Assert.Null(store.Get(TraceId(0)));
        Assert.Equal(8, store.Counts().Spans);
    }

    [Fact]
    public void Log_store_keeps_the_newest_records()
    {
        var store = new LogStore(new TelemetryLimits { MaxLogs = 3 });
        store.Add(Enumerable.Range(0, 5).ToArray(), (i, sequence) => new LogEntry(sequence, i, 9, "Information", null, $"log {i}", null, null, "peer-1", "peer", "cat", []));
        Assert.Equal(["log 2", "log 3", "log 4"], store.Query(new LogFilter()).Select(l => l.Body));
        Assert.Equal(["log 4"], store.Query(new LogFilter(After: 3)).Select(l => l.Body));
    }

    [Fact]
    public void Metric_store_bounds_series_and_points()
    {
        var store = new MetricStore(new TelemetryLimits { MaxMetricSeries = 2, MaxPointsPerSeries = 3 });
        var metric = new MetricDescriptor("height", "", "", "gauge");
        for (var i = 1; i <= 5; i++)
        {
            store.Add("peer-1", "peer-1", metric, [], new MetricPoint(i, i));
        }

        store.Add("peer-2", "peer-2", metric, [], new MetricPoint(1, 1));
        store.Add("peer-3", "peer-3", metric, [], new MetricPoint(1, 1));
        Assert.Equal([3.0, 4.0, 5.0], store.Get("height", "peer-1").Single().Points.Select(p => p.Value));
        Assert.Equal((2, 1L), store.Counts());
        Assert.Empty(store.Get("height", "peer-3"));
    }

    [Fact]
    public async Task Limits_hold_for_telemetry_received_over_otlp()
    {
        await using var dashboard = await TestDashboard.StartAsync(o => o.Limits.MaxTraces = 5);
        using var http = new HttpClient();
        var ids = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var request = MalformedInputTests.Request("t" + i, 2);
            ids.Add(Convert.ToHexStringLower(request.ResourceSpans[0].ScopeSpans[0].Spans[0].TraceId.Span));
            using var content = new ByteArrayContent(Google.Protobuf.MessageExtensions.ToByteArray(request));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
            using var response = await http.PostAsync(new Uri(dashboard.Host.OtlpHttpUrl, "/v1/traces"), content);
            response.EnsureSuccessStatusCode();
        }

        var list = await dashboard.GetJsonAsync("/api/traces?limit=100");
        Assert.Equal(5, list.GetProperty("stored").GetInt32());
        Assert.Equal(ids.Skip(3).Order(), list.GetProperty("traces").EnumerateArray().Select(t => t.GetProperty("traceId").GetString()!).Order());
        using var evicted = await dashboard.Api.GetAsync("/api/traces/" + ids[0]);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, evicted.StatusCode);
        Assert.Equal(3, (await dashboard.GetJsonAsync("/api/overview")).GetProperty("evictedTraces").GetInt64());
    }

    [Fact]
    public void Limits_are_validated_with_the_name_of_the_bad_setting()
    {
        var error = Assert.Throws<ArgumentException>(() => new DashboardHostOptions { Limits = new TelemetryLimits { MaxLogs = 0 } }.Validate());
        Assert.Contains("MaxLogs", error.Message, StringComparison.Ordinal);
        var ports = Assert.Throws<ArgumentException>(() => new DashboardHostOptions { OtlpHttpUrl = new Uri("http://127.0.0.1:18888") }.Validate());
        Assert.Contains("three different ports", ports.Message, StringComparison.Ordinal);
    }

    private static string TraceId(int i) => i.ToString("x32");

    private static SpanRecord Span(string traceId, string spanId, long start) =>
        new(traceId, spanId.PadLeft(16, '0'), null, "s", "Internal", start, start + 1, "Unset", null, "svc", "svc", "svc", "scope", [], [], []);
}
