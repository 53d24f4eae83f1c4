using System.Net.Sockets;

namespace Testbed.Inspector.Tests;

/// <summary>The dashboard client over canned answers: what it sends, how it reads bodies and streams within bounds, what each failure says.</summary>
public sealed class TelemetryApiClientTests
{
    private const string TraceId = "0af7651916cd43dd8448eb211c80319c";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Sends_the_api_key_to_the_documented_paths_and_reads_the_spans()
    {
        using var peers = SyntheticPeers.InMemory(2);
        var traceId = peers.EmitBlock(4, "0004", DateTime.UtcNow, "aa");
        var body = DashboardJson.ApiResponse(peers.Exported);
        var handler = new StubHandler(_ => Json(body));
        using var client = Client(handler);
        using var cancel = new CancellationTokenSource(Timeout);

        var spans = await client.GetSpansAsync(500, cancel.Token);
        var trace = await client.GetTraceAsync(traceId.ToUpperInvariant(), cancel.Token);
        await client.ProbeAsync(cancel.Token);

        Assert.Equal(
            ["/api/telemetry/spans?limit=500", $"/api/telemetry/traces/{traceId}", "/api/telemetry/resources"],
            handler.Requests.Select(r => r.RequestUri!.PathAndQuery));
        Assert.All(handler.Requests, r => Assert.Equal("the-key", r.Headers.GetValues("x-api-key").Single()));
        // The inspector's reads are polls: marked so a ServiceDefaults service would not trace them.
        Assert.All(handler.Requests, r => Assert.True(r.Headers.Contains("X-Testbed-Poll")));
        Assert.Equal(11, spans.Spans.Count);
        Assert.Equal(11, spans.TotalCount);
        Assert.Equal(11, trace!.Spans.Count);
    }

    [Fact]
    public async Task Without_a_key_no_header_is_sent_and_a_401_says_to_set_one()
    {
        var handler = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.Unauthorized));
        using var client = Client(handler, key: "");
        var e = await Assert.ThrowsAsync<DashboardUnavailableException>(() => client.ProbeAsync(CancellationToken.None));
        Assert.False(handler.Requests.Single().Headers.Contains("x-api-key"));
        Assert.Equal("HTTP 401 Unauthorized from /api/telemetry/resources: the dashboard wants an API key; set Inspector__DashboardApiKey to the dashboard's Dashboard:Api:PrimaryApiKey", e.Message);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, "HTTP 401 Unauthorized from /api/telemetry/spans: the dashboard refused the API key; Inspector__DashboardApiKey must equal the dashboard's Dashboard:Api:PrimaryApiKey")]
    [InlineData(HttpStatusCode.NotFound, "HTTP 404 Not Found from /api/telemetry/spans: no telemetry API there; is Inspector__DashboardUrl the dashboard's frontend address, and is its API enabled (Dashboard:Api:Enabled=true)?")]
    [InlineData(HttpStatusCode.Found, "HTTP 302 Found from /api/telemetry/spans to /login?returnUrl=x: the dashboard redirects (a browser login?); the telemetry API needs Inspector__DashboardApiKey")]
    [InlineData(HttpStatusCode.InternalServerError, "HTTP 500 Internal Server Error from /api/telemetry/spans: {\"title\":\"boom\"}")]
    public async Task A_refusal_says_what_to_fix(HttpStatusCode status, string expected)
    {
        using var client = Client(new StubHandler(_ =>
        {
            var response = new HttpResponseMessage(status) { Content = new StringContent(status == HttpStatusCode.InternalServerError ? "{\"title\":\"boom\"}\n" : "") };
            if (status == HttpStatusCode.Found)
            {
                response.Headers.Location = new Uri("/login?returnUrl=x", UriKind.Relative);
            }

            return response;
        }));
        var e = await Assert.ThrowsAsync<DashboardUnavailableException>(() => client.GetSpansAsync(10, CancellationToken.None));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public async Task A_missing_trace_is_null_but_a_missing_api_is_an_error()
    {
        using var client = Client(new StubHandler(r => r.RequestUri!.AbsolutePath.Contains("traces", StringComparison.Ordinal)
            ? new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("{}", Encoding.UTF8, "application/problem+json") }
            : new HttpResponseMessage(HttpStatusCode.NotFound)));
        Assert.Null(await client.GetTraceAsync(TraceId, CancellationToken.None));
        await Assert.ThrowsAsync<DashboardUnavailableException>(() => client.GetSpansAsync(1, CancellationToken.None));
        Assert.Throws<ArgumentException>(() => { _ = client.GetTraceAsync("../../etc", CancellationToken.None); });
    }

    [Fact]
    public async Task An_oversized_body_is_refused_whether_declared_or_streamed()
    {
        var big = Encoding.UTF8.GetBytes("{\"data\":{\"resourceSpans\":[]},\"pad\":\"" + new string('x', 5_000) + "\"}");
        using var declared = Client(new StubHandler(_ => Json(big)), maxResponseBytes: 1_000);
        var e1 = await Assert.ThrowsAsync<TelemetryFormatException>(() => declared.GetSpansAsync(1, CancellationToken.None));
        Assert.Equal($"/api/telemetry/spans?limit=1: the response is {big.Length} bytes, over Inspector__MaxResponseBytes = 1000.", e1.Message);

        // Chunked: no length announced; reading stops at the limit.
        var chunked = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new ChunkedStream(big)) { Headers = { ContentType = new("application/json") } },
        });
        using var streamed = Client(chunked, maxResponseBytes: 1_000);
        var e2 = await Assert.ThrowsAsync<TelemetryFormatException>(() => streamed.GetSpansAsync(1, CancellationToken.None));
        Assert.Equal("/api/telemetry/spans?limit=1: the response is longer than Inspector__MaxResponseBytes = 1000 bytes; not read further.", e2.Message);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_format_error()
    {
        using var html = Client(new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("<html></html>", Encoding.UTF8, "text/html") }));
        var e1 = await Assert.ThrowsAsync<TelemetryFormatException>(() => html.GetSpansAsync(1, CancellationToken.None));
        Assert.Equal("/api/telemetry/spans?limit=1: expected JSON, got 'text/html'.", e1.Message);

        using var broken = Client(new StubHandler(_ => Json(Encoding.UTF8.GetBytes("{\"data\":{\"resourceSpans\":[{\"scopeSpans\""))));
        var e2 = await Assert.ThrowsAsync<TelemetryFormatException>(() => broken.GetSpansAsync(1, CancellationToken.None));
        Assert.StartsWith("/api/telemetry/spans?limit=1: not valid JSON (", e2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dashboard_that_is_not_there_is_reported_as_refused()
    {
        var port = DeadPort();
        using var client = new TelemetryApiClient(Options($"http://127.0.0.1:{port}"));
        var e = await Assert.ThrowsAsync<DashboardUnavailableException>(() => client.ProbeAsync(CancellationToken.None));
        Assert.Equal($"Connection refused (127.0.0.1:{port})", e.Message);
    }

    [Fact]
    public async Task A_dashboard_that_never_answers_times_out()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var options = Options($"http://127.0.0.1:{port}");
        options.RequestTimeout = TimeSpan.FromMilliseconds(300);
        using var client = new TelemetryApiClient(options);
        var e = await Assert.ThrowsAsync<DashboardUnavailableException>(() => client.ProbeAsync(CancellationToken.None));
        Assert.Equal($"no answer from http://127.0.0.1:{port}/ within 0.3 s", e.Message);
    }

    [Fact]
    public async Task The_follow_stream_delivers_spans_skips_bad_lines_and_reports_its_end()
    {
        using var peers = SyntheticPeers.InMemory(3);
        peers.EmitBlock(1, "0001", DateTime.UtcNow, "aa");
        var lines = DashboardJson.StreamLines(peers.Exported).ToList();
        lines.Insert(2, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" + new string(' ', 3_000) + "]}]}]}"); // over MaxLineBytes
        lines.Insert(4, "{\"resourceSpans\":");                                                                        // malformed
        lines.Insert(5, "");                                                                                             // blank: ignored
        var text = string.Join("\r\n", lines) + "\n";
        var handler = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new ChunkedStream(Encoding.UTF8.GetBytes(text), chunk: 97)) { Headers = { ContentType = new("application/x-ndjson") } },
        });
        var options = Options("http://127.0.0.1:1");
        options.MaxLineBytes = 2_500;
        using var client = new TelemetryApiClient(options, handler);

        var connected = 0;
        var spans = new List<Testbed.Inspector.Telemetry.SpanRecord>();
        StreamProgress? progress = null;
        var e = await Assert.ThrowsAsync<DashboardUnavailableException>(() =>
            client.FollowSpansAsync(() => connected++, b => spans.AddRange(b.Spans), p => progress = p, CancellationToken.None));

        Assert.Equal("the dashboard ended the span stream (stopped or restarting)", e.Message);
        Assert.Equal("/api/telemetry/spans?follow=true", handler.Requests.Single().RequestUri!.PathAndQuery);
        Assert.Equal(1, connected);
        Assert.Equal(17, spans.Count); // the miner's 5 spans and 6 of each receiver
        Assert.Equal(spans.Count, spans.Select(s => s.SpanId).Distinct().Count());
        Assert.NotNull(progress);
        Assert.Equal((19L, 1L, 1L), (progress.Lines, progress.MalformedLines, progress.OversizedLines));
        Assert.Contains("span stream line 5: not valid JSON", progress.LastProblem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_follow_stream_refused_is_an_error_before_connecting()
    {
        using var client = Client(new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.Unauthorized)));
        var connected = false;
        var e = await Assert.ThrowsAsync<DashboardUnavailableException>(() =>
            client.FollowSpansAsync(() => connected = true, _ => { }, _ => { }, CancellationToken.None));
        Assert.False(connected);
        Assert.StartsWith("HTTP 401 Unauthorized from /api/telemetry/spans: the dashboard refused the API key", e.Message, StringComparison.Ordinal);
    }

    internal static InspectorOptions Options(string url, string? key = "the-key")
    {
        var options = new InspectorOptions { DashboardUrl = url, DashboardApiKey = key };
        options.Validate();
        return options;
    }

    internal static int DeadPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static TelemetryApiClient Client(StubHandler handler, string key = "the-key", int? maxResponseBytes = null)
    {
        var options = Options("http://dashboard.test:18888", key);
        options.MaxResponseBytes = maxResponseBytes ?? options.MaxResponseBytes;
        return new TelemetryApiClient(options, handler);
    }

    private static HttpResponseMessage Json(byte[] body) => new(HttpStatusCode.OK)
    {
        Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") { CharSet = "utf-8" } } },
    };

    private sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            var response = answer(request);
            response.RequestMessage = request;
            return Task.FromResult(response);
        }
    }

    /// <summary>A body of unknown length, delivered <paramref name="chunk"/> bytes per read.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk = 256) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, chunk), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
