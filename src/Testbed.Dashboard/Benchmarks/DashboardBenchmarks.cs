using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Testbed.Dashboard.Ingest;
using Testbed.Dashboard.Protocol.Collector.Trace;
using Testbed.Dashboard.Protocol.Common;
using Testbed.Dashboard.Protocol.Resource;
using Testbed.Dashboard.Protocol.Trace;

namespace Testbed.Dashboard.Benchmarks;

/// <summary>Settings of one benchmark run.</summary>
/// <param name="Spans">Spans sent over OTLP/gRPC for the ingest figure.</param>
/// <param name="SpansPerRequest">Spans per Export call (the .NET exporter's default batch is 512).</param>
/// <param name="Concurrency">Export calls in flight at once.</param>
/// <param name="StoredTraces">Traces stored when the trace list is timed.</param>
/// <param name="QueryRuns">Timed trace-list queries (median and p95 reported).</param>
public sealed record DashboardBenchmarkOptions(
    int Spans = 300_000,
    int SpansPerRequest = 500,
    int Concurrency = 4,
    int StoredTraces = 10_000,
    int QueryRuns = 30);

/// <summary>A timing of the trace list in a real browser: fetch and render of <paramref name="Rows"/> rows.</summary>
public sealed record BrowserRenderResult(int Rows, double MedianMs, double MaxMs);

/// <summary>Figures of one run, each with its target.</summary>
public sealed record DashboardBenchmarkResult(
    double IngestSpansPerSecond,
    double IngestTargetSpansPerSecond,
    int StoredTraces,
    double TraceListQueryMedianMs,
    double TraceListQueryP95Ms,
    int TraceListQueryRows,
    double TraceListAllRowsMedianMs,
    double TraceListTargetMs,
    IReadOnlyList<BrowserRenderResult> BrowserRender,
    string? BrowserNote);

/// <summary>
/// Benchmarks of the dashboard (not tests): OTLP/gRPC ingest rate, and the trace list with 10,000 traces
/// stored, timed through the HTTP API and, when a browser is supplied, rendered in it.
/// </summary>
public static class DashboardBenchmarks
{
    /// <summary>Target of issue 10: at least 50,000 spans/s over OTLP/gRPC.</summary>
    public const double IngestTarget = 50_000;

    /// <summary>Target of issue 10: the trace list with 10,000 traces renders in under 200 ms.</summary>
    public const double TraceListTargetMs = 200;

    private const int SpansPerTrace = 10;

    private static readonly Marshaller<byte[]> Raw = new((bytes, context) => context.Complete(bytes), context => context.PayloadAsNewBuffer());

    /// <summary>Runs the benchmarks on a dashboard of its own (free loopback ports); <paramref name="browser"/> times the UI when given.</summary>
    public static async Task<DashboardBenchmarkResult> RunAsync(
        DashboardBenchmarkOptions options,
        Func<Uri, CancellationToken, Task<IReadOnlyList<BrowserRenderResult>>>? browser,
        TextWriter? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var free = new Uri("http://127.0.0.1:0");
        await using var host = await DashboardHost.StartAsync(new DashboardHostOptions
        {
            UiUrl = free,
            OtlpGrpcUrl = new Uri("http://127.0.0.1:0"),
            OtlpHttpUrl = new Uri("http://127.0.0.1:0"),
            Limits = new TelemetryLimits { MaxTraces = options.StoredTraces, MaxSpans = Math.Max(options.StoredTraces * SpansPerTrace, 500_000) },
        }, cancellationToken);

        progress?.WriteLine($"Building {options.Spans:N0} spans in Export requests of {options.SpansPerRequest} ...");
        var requests = BuildRequests(options.Spans, options.SpansPerRequest);
        using var channel = GrpcChannel.ForAddress(host.OtlpGrpcUrl, new GrpcChannelOptions { MaxSendMessageSize = null });
        var invoker = channel.CreateCallInvoker();
        var export = new Method<byte[], byte[]>(MethodType.Unary, OtlpSignal.Traces.GrpcService(), "Export", Raw, Raw);

        // Warm-up: JIT and connection, not timed.
        foreach (var request in requests.Take(4))
        {
            await invoker.AsyncUnaryCall(export, null, new CallOptions(cancellationToken: cancellationToken), request).ResponseAsync;
        }

        progress?.WriteLine($"Sending over OTLP/gRPC with {options.Concurrency} calls in flight ...");
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < requests.Count)
            {
                await invoker.AsyncUnaryCall(export, null, new CallOptions(cancellationToken: cancellationToken), requests[index]).ResponseAsync;
            }
        }));
        clock.Stop();
        var sent = requests.Count * options.SpansPerRequest;
        var received = host.Telemetry.Received.Spans;
        if (received < sent)
        {
            throw new InvalidOperationException($"The dashboard accepted {received} of {sent} spans; the ingest figure would be wrong.");
        }

        var rate = sent / clock.Elapsed.TotalSeconds;
        var stored = host.Telemetry.Traces.Counts().Traces;

        progress?.WriteLine($"Timing the trace list with {stored:N0} traces stored ...");
        using var http = new HttpClient { BaseAddress = host.UiUrl, Timeout = TimeSpan.FromSeconds(60) };
        var (median, p95, rows) = await TimeQueryAsync(http, "/api/traces?limit=500", options.QueryRuns, cancellationToken);
        var (allMedian, _, _) = await TimeQueryAsync(http, $"/api/traces?limit={Math.Min(stored, 10_000)}", Math.Max(5, options.QueryRuns / 3), cancellationToken);

        IReadOnlyList<BrowserRenderResult> render = [];
        string? note = "no browser supplied: API timings only";
        if (browser is not null)
        {
            try
            {
                progress?.WriteLine("Timing the trace list in the browser ...");
                render = await browser(host.UiUrl, cancellationToken);
                note = null;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                note = "browser timing failed: " + e.Message;
            }
        }

        return new DashboardBenchmarkResult(rate, IngestTarget, stored, median, p95, rows, allMedian, TraceListTargetMs, render, note);
    }

    /// <summary>Prints the figures with their ratio to the targets, as text or as one JSON object.</summary>
    public static void Print(DashboardBenchmarkResult result, bool json, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
            return;
        }

        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Format(c, "OTLP/gRPC ingest:            {0,12:N0} spans/s   target >= {1:N0}/s   ratio {2:0.00}x",
            result.IngestSpansPerSecond, result.IngestTargetSpansPerSecond, result.IngestSpansPerSecond / result.IngestTargetSpansPerSecond));
        output.WriteLine(string.Format(c, "Trace list API ({0} rows of {1:N0} traces): median {2:0.0} ms, p95 {3:0.0} ms   target < {4:0} ms   ratio {5:0.00}x",
            result.TraceListQueryRows, result.StoredTraces, result.TraceListQueryMedianMs, result.TraceListQueryP95Ms, result.TraceListTargetMs,
            result.TraceListTargetMs / result.TraceListQueryMedianMs));
        output.WriteLine(string.Format(c, "Trace list API (all {0:N0} rows):  median {1:0.0} ms", result.StoredTraces, result.TraceListAllRowsMedianMs));
        foreach (var render in result.BrowserRender)
        {
            output.WriteLine(string.Format(c, "Trace list in Chromium ({0:N0} rows, fetch + render): median {1:0.0} ms, max {2:0.0} ms   target < {3:0} ms   ratio {4:0.00}x",
                render.Rows, render.MedianMs, render.MaxMs, result.TraceListTargetMs, result.TraceListTargetMs / render.MedianMs));
        }

        if (result.BrowserNote is not null)
        {
            output.WriteLine("Browser: " + result.BrowserNote);
        }
    }

    private static async Task<(double Median, double P95, int Rows)> TimeQueryAsync(HttpClient http, string path, int runs, CancellationToken cancellationToken)
    {
        var timings = new List<double>();
        var rows = 0;
        for (var i = 0; i < runs + 2; i++)
        {
            var clock = Stopwatch.StartNew();
            var body = await http.GetByteArrayAsync(path, cancellationToken);
            using var document = JsonDocument.Parse(body);
            clock.Stop();
            rows = document.RootElement.GetProperty("traces").GetArrayLength();
            if (i >= 2)
            {
                timings.Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        timings.Sort();
        return (timings[timings.Count / 2], timings[(int)Math.Min(timings.Count - 1, Math.Ceiling(timings.Count * 0.95) - 1)], rows);
    }

    /// <summary>Export requests shaped like the testbed's: 4 peers, traces of 10 block spans with the contract's attributes.</summary>
    private static List<byte[]> BuildRequests(int spans, int perRequest)
    {
        var requests = new List<byte[]>();
        var random = new Random(1234);
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL;
        string[] names = ["block.receive", "torrent.download", "block.verify.signature", "block.verify.pow", "block.verify.transactions", "vm.replay", "block.announce", "torrent.announce", "block.mine", "block.sign"];
        var resources = Enumerable.Range(1, 4).Select(i => new Resource
        {
            Attributes =
            {
                new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = "peer" } },
                new KeyValue { Key = "service.instance.id", Value = new AnyValue { StringValue = $"peer-{i}" } },
            },
        }).ToArray();
        var traceIndex = 0;
        for (var made = 0; made < spans; made += perRequest)
        {
            var request = new ExportTraceServiceRequest();
            var scopes = resources.Select(r =>
            {
                var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "Testbed.Peer" } };
                request.ResourceSpans.Add(new ResourceSpans { Resource = r, ScopeSpans = { scope } });
                return scope;
            }).ToArray();
            var traceId = new byte[16];
            var parent = ByteString.Empty;
            for (var i = 0; i < perRequest; i++)
            {
                if (i % SpansPerTrace == 0)
                {
                    random.NextBytes(traceId);
                    traceIndex++;
                    parent = ByteString.Empty;
                }

                var spanId = new byte[8];
                random.NextBytes(spanId);
                spanId[0] |= 1;
                var peer = i % 4;
                var start = now + ((ulong)traceIndex * 1_000_000UL) + ((ulong)i * 10_000UL);
                var span = new Span
                {
                    TraceId = ByteString.CopyFrom(traceId),
                    SpanId = ByteString.CopyFrom(spanId),
                    ParentSpanId = parent,
                    Name = names[i % names.Length],
                    Kind = Span.Types.SpanKind.Internal,
                    StartTimeUnixNano = start,
                    EndTimeUnixNano = start + 2_000_000UL,
                    Attributes =
                    {
                        new KeyValue { Key = "testbed.peer", Value = new AnyValue { StringValue = $"peer-{peer + 1}" } },
                        new KeyValue { Key = "block.height", Value = new AnyValue { IntValue = traceIndex } },
                        new KeyValue { Key = "block.hash", Value = new AnyValue { StringValue = Convert.ToHexStringLower(traceId) + Convert.ToHexStringLower(traceId) } },
                        new KeyValue { Key = "result", Value = new AnyValue { StringValue = "ok" } },
                    },
                };
                if (parent.IsEmpty)
                {
                    parent = span.SpanId;
                }

                scopes[peer].Spans.Add(span);
            }

            requests.Add(request.ToByteArray());
        }

        return requests;
    }
}
