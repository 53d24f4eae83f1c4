using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Testbed.Dashboard.Ingest;
using Testbed.Dashboard.Protocol.Collector.Trace;
using Testbed.Dashboard.Protocol.Common;
using Testbed.Dashboard.Protocol.Resource;
using Testbed.Dashboard.Protocol.Trace;

namespace Testbed.Dashboard.Tests;

/// <summary>Bad OTLP bodies get a clear error (HTTP 400 / gRPC InvalidArgument) and the dashboard keeps working.</summary>
public sealed class MalformedInputTests
{
    private static readonly Marshaller<byte[]> Raw = new((bytes, context) => context.Complete(bytes), context => context.PayloadAsNewBuffer());

    [Fact]
    public async Task Malformed_protobuf_over_http_is_answered_with_400_and_a_status_message()
    {
        await using var dashboard = await TestDashboard.StartAsync();
        using var http = new HttpClient();
        using var response = await Post(http, dashboard, "/v1/traces", [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01], "application/x-protobuf");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var status = Protocol.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(3, status.Code);
        Assert.Contains("ExportTraceServiceRequest", status.Message, StringComparison.Ordinal);

        await AssertStillWorks(dashboard, http);
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\",\"spanId\":\"0102030405060708\"}]}]}]}", "must be hex")]
    [InlineData("{\"resourceSpans\":\"oops\"}", "ExportTraceServiceRequest")]
    public async Task Malformed_json_is_answered_with_400_and_the_reason(string body, string reason)
    {
        await using var dashboard = await TestDashboard.StartAsync();
        using var http = new HttpClient();
        using var response = await Post(http, dashboard, "/v1/traces", Encoding.UTF8.GetBytes(body), "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains(reason, text, StringComparison.Ordinal);
        await AssertStillWorks(dashboard, http);
    }

    [Fact]
    public async Task Wrong_content_type_bad_gzip_and_oversized_bodies_are_refused_with_their_reason()
    {
        await using var dashboard = await TestDashboard.StartAsync(o => o.Limits.MaxRequestBytes = 1024);
        using var http = new HttpClient();

        using (var response = await Post(http, dashboard, "/v1/logs", [1, 2, 3], "text/plain"))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        }

        using (var content = new ByteArrayContent([1, 2, 3, 4]))
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
            content.Headers.ContentEncoding.Add("gzip");
            using var response = await http.PostAsync(new Uri(dashboard.Host.OtlpHttpUrl, "/v1/metrics"), content);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("cannot be decompressed", Protocol.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync()).Message, StringComparison.Ordinal);
        }

        using (var response = await Post(http, dashboard, "/v1/traces", Request("big", 2000).ToByteArray(), "application/x-protobuf"))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Contains("1024 bytes", Protocol.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync()).Message, StringComparison.Ordinal);
        }

        await AssertStillWorks(dashboard, http);
    }

    [Fact]
    public async Task Malformed_protobuf_over_grpc_is_answered_with_invalid_argument()
    {
        await using var dashboard = await TestDashboard.StartAsync();
        using var channel = GrpcChannel.ForAddress(dashboard.Host.OtlpGrpcUrl);
        var invoker = channel.CreateCallInvoker();
        foreach (var service in new[] { OtlpSignal.Traces, OtlpSignal.Logs, OtlpSignal.Metrics })
        {
            var method = new Method<byte[], byte[]>(MethodType.Unary, service.GrpcService(), "Export", Raw, Raw);
            var error = await Assert.ThrowsAsync<RpcException>(() =>
                invoker.AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), [0x0a, 0x05, 0x01]).ResponseAsync);
            Assert.True(error.StatusCode == StatusCode.InvalidArgument, error.ToString());
            Assert.Contains("not a valid OTLP", error.Status.Detail, StringComparison.Ordinal);
        }

        // A valid request on the same channel still goes through.
        var traces = new Method<byte[], byte[]>(MethodType.Unary, OtlpSignal.Traces.GrpcService(), "Export", Raw, Raw);
        var answer = await invoker.AsyncUnaryCall(traces, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), Request("ok", 3).ToByteArray()).ResponseAsync;
        Assert.NotNull(ExportTraceServiceResponse.Parser.ParseFrom(answer));
        Assert.Equal(3, dashboard.Host.Telemetry.Traces.Counts().Spans);
    }

    [Fact]
    public async Task Gzip_compressed_requests_are_accepted_over_grpc_and_http()
    {
        await using var dashboard = await TestDashboard.StartAsync();
        using var channel = GrpcChannel.ForAddress(dashboard.Host.OtlpGrpcUrl);
        var traces = new Method<byte[], byte[]>(MethodType.Unary, OtlpSignal.Traces.GrpcService(), "Export", Raw, Raw);
        var headers = new Metadata { { "grpc-internal-encoding-request", "gzip" } };
        await channel.CreateCallInvoker().AsyncUnaryCall(traces, null, new CallOptions(headers, DateTime.UtcNow.AddSeconds(30)), Request("gzip-grpc", 4).ToByteArray()).ResponseAsync;

        using var http = new HttpClient();
        using var buffer = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            Request("gzip-http", 3).WriteTo(gzip);
        }

        using var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        content.Headers.ContentEncoding.Add("gzip");
        using var response = await http.PostAsync(new Uri(dashboard.Host.OtlpHttpUrl, "/v1/traces"), content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(7, dashboard.Host.Telemetry.Traces.Counts().Spans);
        Assert.Equal(1, (await dashboard.GetJsonAsync("/api/traces?name=gzip-grpc")).GetProperty("matched").GetInt32());
    }

    [Fact]
    public async Task Spans_with_invalid_ids_are_rejected_as_partial_success_and_the_rest_kept()
    {
        await using var dashboard = await TestDashboard.StartAsync();
        var request = Request("mixed", 2);
        request.ResourceSpans[0].ScopeSpans[0].Spans.Add(new Span { TraceId = ByteString.CopyFrom(new byte[5]), SpanId = ByteString.CopyFrom(new byte[8]), Name = "bad" });
        using var http = new HttpClient();
        using var response = await Post(http, dashboard, "/v1/traces", request.ToByteArray(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = ExportTraceServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, answer.PartialSuccess.RejectedSpans);
        Assert.Contains("trace_id of 5 bytes", answer.PartialSuccess.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(2, dashboard.Host.Telemetry.Traces.Counts().Spans);
    }

    [Fact]
    public async Task Api_queries_with_bad_parameters_get_400_naming_the_parameter()
    {
        await using var dashboard = await TestDashboard.StartAsync();
        foreach (var (path, word) in new[]
        {
            ("/api/traces?limit=0", "limit"), ("/api/traces?minMs=abc", "minMs"), ("/api/traces/xyz", "trace id"),
            ("/api/logs?level=loud", "level"), ("/api/export?traceIds=nothex", "traceIds"), ("/api/metrics/series", "name"),
        })
        {
            using var response = await dashboard.Api.GetAsync(path);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(word, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var missing = await dashboard.Api.GetAsync("/api/traces/" + new string('a', 32));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var noControl = await dashboard.Api.GetAsync("/api/resources");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, noControl.StatusCode);
        Assert.Contains("without an AppHost control API", await noControl.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    internal static ExportTraceServiceRequest Request(string name, int spans)
    {
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "test" } };
        var traceId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray());
        for (var i = 0; i < spans; i++)
        {
            var spanId = new byte[8];
            Random.Shared.NextBytes(spanId);
            spanId[0] = 1;
            scope.Spans.Add(new Span { TraceId = traceId, SpanId = ByteString.CopyFrom(spanId), Name = name, StartTimeUnixNano = 1, EndTimeUnixNano = 2 });
        }

        var resource = new Resource();
        resource.Attributes.Add(new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = "svc" } });
        return new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = resource, ScopeSpans = { scope } } } };
    }

    private static async Task<HttpResponseMessage> Post(HttpClient http, TestDashboard dashboard, string path, byte[] body, string contentType)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return await http.PostAsync(new Uri(dashboard.Host.OtlpHttpUrl, path), content);
    }

    private static async Task AssertStillWorks(TestDashboard dashboard, HttpClient http)
    {
        var before = dashboard.Host.Telemetry.Traces.Counts().Spans;
        using var response = await Post(http, dashboard, "/v1/traces", Request("after-error", 1).ToByteArray(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before + 1, dashboard.Host.Telemetry.Traces.Counts().Spans);
    }
}
