using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Testbed.Dashboard.Tests;

/// <summary>The standard OpenTelemetry .NET OTLP exporter sends to the dashboard; the JSON API gives the data back.</summary>
public sealed class StandardExporterTests
{
    public static TheoryData<OtlpExportProtocol> Protocols => [OtlpExportProtocol.Grpc, OtlpExportProtocol.HttpProtobuf];

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Spans_from_the_standard_exporter_come_back_through_the_api(OtlpExportProtocol protocol)
    {
        await using var dashboard = await TestDashboard.StartAsync();
        var sourceName = "Testbed.Dashboard.Tests." + protocol;
        using var source = new ActivitySource(sourceName);
        string traceId, rootId, childId;
        using (var provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(sourceName)
            .SetSampler(new AlwaysOnSampler())
            .ConfigureResource(r => r.AddService("peer", serviceInstanceId: "peer-3"))
            .AddOtlpExporter(o => Configure(o, dashboard, protocol, "traces"))
            .Build())
        {
            var linked = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
            using (var root = source.StartActivity("block.receive", ActivityKind.Server)!)
            {
                root.SetTag("testbed.peer", "peer-3");
                root.SetTag("block.height", 7L);
                root.SetTag("block.hash", "00ab");
                traceId = root.TraceId.ToHexString();
                rootId = root.SpanId.ToHexString();
                using var child = source.StartActivity("torrent.download", ActivityKind.Client, root.Context,
                    [new("torrent.bytes", 2048L), new("testbed.peer", "peer-3")], [new ActivityLink(linked)])!;
                child.AddEvent(new ActivityEvent("piece.verified", tags: new ActivityTagsCollection { ["piece"] = 3L }));
                child.SetStatus(ActivityStatusCode.Error, "peer choked");
                childId = child.SpanId.ToHexString();
            }

            Assert.True(provider.ForceFlush(30_000), "the exporter did not flush");
        }

        var list = await dashboard.GetJsonAsync("/api/traces?resource=peer-3");
        var summary = Assert.Single(list.GetProperty("traces").EnumerateArray());
        Assert.Equal(traceId, summary.GetProperty("traceId").GetString());
        Assert.Equal("block.receive", summary.GetProperty("rootName").GetString());
        Assert.Equal(2, summary.GetProperty("spanCount").GetInt32());
        Assert.Equal(1, summary.GetProperty("errorCount").GetInt32());

        var detail = await dashboard.GetJsonAsync("/api/traces/" + traceId);
        var spans = detail.GetProperty("spans").EnumerateArray().ToDictionary(s => s.GetProperty("spanId").GetString()!);
        var rootSpan = spans[rootId];
        Assert.Equal("Server", rootSpan.GetProperty("kind").GetString());
        Assert.Equal("peer-3", rootSpan.GetProperty("source").GetString());
        Assert.Equal("peer", rootSpan.GetProperty("serviceName").GetString());
        Assert.Equal("7", Attribute(rootSpan, "block.height"));
        var childSpan = spans[childId];
        Assert.Equal(rootId, childSpan.GetProperty("parentSpanId").GetString());
        Assert.Equal("Client", childSpan.GetProperty("kind").GetString());
        Assert.Equal("Error", childSpan.GetProperty("status").GetString());
        Assert.Equal("peer choked", childSpan.GetProperty("statusMessage").GetString());
        Assert.Equal("2048", Attribute(childSpan, "torrent.bytes"));
        var ev = Assert.Single(childSpan.GetProperty("events").EnumerateArray());
        Assert.Equal("piece.verified", ev.GetProperty("name").GetString());
        var link = Assert.Single(childSpan.GetProperty("links").EnumerateArray());
        Assert.Equal(32, link.GetProperty("traceId").GetString()!.Length);

        // Filters: span name, attribute and duration.
        Assert.Equal(1, (await dashboard.GetJsonAsync("/api/traces?name=torrent.down")).GetProperty("matched").GetInt32());
        Assert.Equal(1, (await dashboard.GetJsonAsync("/api/traces?attr=torrent.bytes=2048")).GetProperty("matched").GetInt32());
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/traces?attr=torrent.bytes=9999")).GetProperty("matched").GetInt32());
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/traces?minMs=60000")).GetProperty("matched").GetInt32());
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/traces?resource=peer-9")).GetProperty("matched").GetInt32());
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Logs_from_the_standard_exporter_are_filterable_and_linked_to_their_trace(OtlpExportProtocol protocol)
    {
        await using var dashboard = await TestDashboard.StartAsync();
        string traceId;
        using (var loggerFactory = LoggerFactory.Create(builder => builder.AddOpenTelemetry(o =>
               {
                   o.SetResourceBuilder(ResourceBuilder.CreateDefault().AddService("tracker", serviceInstanceId: "tracker"));
                   o.AddOtlpExporter(e => Configure(e, dashboard, protocol, "logs"));
               })))
        {
            var logger = loggerFactory.CreateLogger("Testbed.Tracker.Announce");
            using var activity = new Activity("announce").Start();
            traceId = activity.TraceId.ToHexString();
#pragma warning disable CA1848 // A test: the message template is the point.
            logger.LogWarning("Swarm {InfoHash} has {Peers} peers", "abcd", 4);
            logger.LogInformation("Announce accepted");
#pragma warning restore CA1848
        }

        JsonElement logs = default;
        await TestDashboard.WaitForAsync(async () =>
        {
            logs = await dashboard.GetJsonAsync("/api/logs?resource=tracker");
            return logs.GetArrayLength() == 2;
        }, "two log records");

        var warnings = await dashboard.GetJsonAsync("/api/logs?level=warning");
        var warning = Assert.Single(warnings.EnumerateArray());
        Assert.Equal("Warning", warning.GetProperty("level").GetString());
        Assert.Contains("abcd", warning.GetProperty("body").GetString() + Attribute(warning, "InfoHash"), StringComparison.Ordinal);
        Assert.Equal(traceId, warning.GetProperty("traceId").GetString());
        Assert.Equal("Testbed.Tracker.Announce", warning.GetProperty("scope").GetString());
        Assert.Single((await dashboard.GetJsonAsync("/api/logs?text=accepted")).EnumerateArray());
        Assert.Equal(2, (await dashboard.GetJsonAsync("/api/logs?traceId=" + traceId)).GetArrayLength());
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/logs?resource=peer-1")).GetArrayLength());
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Metrics_from_the_standard_exporter_become_series_per_peer(OtlpExportProtocol protocol)
    {
        await using var dashboard = await TestDashboard.StartAsync();
        var meterName = "Testbed.Dashboard.Tests.Metrics." + protocol;
        using (var meter = new Meter(meterName))
        {
            var height = 41L;
            meter.CreateObservableGauge("testbed.chain.height", () => height);
            var bytes = meter.CreateCounter<long>("testbed.torrent.bytes_up", "By");
            using var provider = Sdk.CreateMeterProviderBuilder()
                .AddMeter(meterName)
                .ConfigureResource(r => r.AddService("peer", serviceInstanceId: "peer-2"))
                .AddOtlpExporter((e, reader) =>
                {
                    Configure(e, dashboard, protocol, "metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000;
                })
                .Build();
            bytes.Add(1000);
            bytes.Add(500);
            Assert.True(provider.ForceFlush(30_000), "the metric exporter did not flush");
            height = 42;
            Assert.True(provider.ForceFlush(30_000), "the metric exporter did not flush twice");
        }

        var catalog = await dashboard.GetJsonAsync("/api/metrics");
        var names = catalog.EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToArray();
        Assert.Contains("testbed.chain.height", names);
        Assert.Contains("testbed.torrent.bytes_up", names);

        var heightSeries = Assert.Single((await dashboard.GetJsonAsync("/api/metrics/series?name=testbed.chain.height")).EnumerateArray());
        Assert.Equal("peer-2", heightSeries.GetProperty("peer").GetString());
        var values = heightSeries.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("value").GetDouble()).ToArray();
        Assert.Equal(42, values[^1]);
        var bytesSeries = Assert.Single((await dashboard.GetJsonAsync("/api/metrics/series?name=testbed.torrent.bytes_up")).EnumerateArray());
        Assert.Equal(1500, bytesSeries.GetProperty("points").EnumerateArray().Last().GetProperty("value").GetDouble());
        Assert.Equal("counter", bytesSeries.GetProperty("metric").GetProperty("kind").GetString());
    }

    internal static void Configure(OtlpExporterOptions options, TestDashboard dashboard, OtlpExportProtocol protocol, string signal)
    {
        options.Protocol = protocol;
        options.TimeoutMilliseconds = 30_000;
        options.ExportProcessorType = ExportProcessorType.Batch;
        options.BatchExportProcessorOptions = new BatchExportActivityProcessorOptions { ScheduledDelayMilliseconds = 200 };
        options.Endpoint = protocol == OtlpExportProtocol.Grpc
            ? dashboard.Host.OtlpGrpcUrl
            : new Uri(dashboard.Host.OtlpHttpUrl, "/v1/" + signal);
    }

    internal static string? Attribute(JsonElement item, string key) =>
        item.GetProperty("attributes").EnumerateArray()
            .Where(a => a.GetProperty("key").GetString() == key)
            .Select(a => a.GetProperty("value").GetString())
            .FirstOrDefault();
}
