namespace Testbed.Inspector.Tests;

/// <summary>Reading the OTLP JSON of the dashboard's telemetry API: its real shape, every value kind, bad spans, bad documents, bounds.</summary>
public sealed class OtlpSpanJsonTests
{
    private const string TraceId = "5b8efff798038103d269b633813fc60c";

    /// <summary>What the Aspire dashboard 13.6.5 answered to GET /api/telemetry/spans after one span was sent to it (copied from a real run).</summary>
    private const string RealResponse = """
        {"data":{"resourceSpans":[{"scopeSpans":[{"scope":{"name":"Testbed.Peer","version":"1.0"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
        "spanId":"eee19b7ec3c1b174","name":"block.mine","kind":1,"startTimeUnixNano":"1796593533367600300","endTimeUnixNano":"1796593533372600300",
        "attributes":[{"key":"block.height","value":{"stringValue":"7"}},{"key":"block.hash","value":{"stringValue":"abcd"}},
        {"key":"ok","value":{"stringValue":"true"}},{"key":"d","value":{"stringValue":"1.5"}}],
        "events":[{"timeUnixNano":"1796593533367600300","name":"ev","attributes":[{"key":"a","value":{"stringValue":"b"}}]}],
        "status":{"message":"bad","code":2}}]}],"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"peer-1"}},
        {"key":"service.instance.id","value":{"stringValue":"inst-1"}},{"key":"custom.res","value":{"stringValue":"x"}}]}}]},"totalCount":1,"returnedCount":1}
        """;

    [Fact]
    public void Reads_the_dashboards_real_response()
    {
        var batch = OtlpSpanJson.ParseApiResponse(Bytes(RealResponse), SpanLimits.Default, "/api/telemetry/spans");
        Assert.Equal(1, batch.TotalCount);
        var span = Assert.Single(batch.Spans);
        Assert.Equal(TraceId, span.TraceId);
        Assert.Equal("eee19b7ec3c1b174", span.SpanId);
        Assert.Null(span.ParentSpanId);
        Assert.Equal("block.mine", span.Name);
        Assert.Equal("Internal", span.Kind);
        Assert.Equal(5.0, span.DurationMs, 6);
        Assert.Equal(1796593533367600300L, span.StartUnixNano);
        Assert.Equal(("Error", "bad"), (span.Status, span.StatusMessage));
        Assert.Equal(("peer-1", "inst-1", "peer-1", "Testbed.Peer"), (span.ServiceName, span.InstanceId, span.Peer, span.Scope));
        Assert.Equal("7", span.Attribute("block.height"));
        Assert.Equal("abcd", span.Attribute("block.hash"));
    }

    [Fact]
    public void Reads_a_stream_line_and_names_the_peer_by_testbed_peer_first()
    {
        var line = Line(Span(attributes: """[{"key":"testbed.peer","value":{"stringValue":"peer-7"}}]"""), service: "svc");
        var batch = OtlpSpanJson.ParseTelemetryData(Bytes(line), SpanLimits.Default, "line");
        var span = Assert.Single(batch.Spans);
        Assert.Equal(("peer-7", "svc"), (span.Peer, span.ServiceName));
        Assert.Null(batch.TotalCount);
    }

    [Fact]
    public void Renders_every_otlp_value_kind_as_text()
    {
        var attributes = """
            [{"key":"s","value":{"stringValue":"text"}},{"key":"b","value":{"boolValue":true}},{"key":"i","value":{"intValue":"9007199254740993"}},
             {"key":"n","value":{"intValue":42}},{"key":"d","value":{"doubleValue":1.5}},{"key":"a","value":{"arrayValue":{"values":[{"stringValue":"x"},{"intValue":"2"}]}}},
             {"key":"kv","value":{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":false}}]}}},{"key":"bytes","value":{"bytesValue":"AQID"}},
             {"key":"empty","value":{}},{"key":"","value":{"stringValue":"keyless"}},"not an object"]
            """;
        var span = Assert.Single(OtlpSpanJson.ParseTelemetryData(Bytes(Line(Span(attributes: attributes))), SpanLimits.Default, "line").Spans);
        Assert.Equal(
            [("s", "text"), ("b", "true"), ("i", "9007199254740993"), ("n", "42"), ("d", "1.5"), ("a", "[x, 2]"), ("kv", "{k=false}"), ("bytes", "AQID"), ("empty", "")],
            span.Attributes.Select(a => (a.Key, a.Value)));
    }

    [Theory]
    [InlineData("\"traceId\":\"5b8efff7\",", "traceId must be 32 hex digits")]
    [InlineData("\"traceId\":\"00000000000000000000000000000000\",", "traceId must be 32 hex digits")]
    [InlineData("\"traceId\":\"5b8efff798038103d269b633813fc6zz\",", "traceId must be 32 hex digits")]
    [InlineData("\"spanId\":\"xyz\",", "spanId must be 16 hex digits")]
    [InlineData("\"name\":\"\",", "the span has no name")]
    [InlineData("\"startTimeUnixNano\":\"-5\",", "startTimeUnixNano and endTimeUnixNano must be unsigned 64-bit integers")]
    [InlineData("\"endTimeUnixNano\":\"soon\",", "startTimeUnixNano and endTimeUnixNano must be unsigned 64-bit integers")]
    public void A_bad_span_is_refused_alone_with_the_reason(string replacement, string reason)
    {
        var field = replacement[..(replacement.IndexOf(':', StringComparison.Ordinal) + 1)];
        var good = Span();
        var start = good.IndexOf(field, StringComparison.Ordinal);
        var end = good.IndexOf(',', start) + 1;
        var bad = good[..start] + replacement + good[end..];
        var batch = OtlpSpanJson.ParseTelemetryData(Bytes($$"""{"resourceSpans":[{"scopeSpans":[{"spans":[{{bad}},{{Span(spanId: "00f067aa0ba902b7")}}]}]}]}"""), SpanLimits.Default, "line 3");
        Assert.Equal("00f067aa0ba902b7", Assert.Single(batch.Spans).SpanId);
        Assert.Equal(1, batch.Rejected);
        Assert.Contains("line 3: resourceSpans[0].scopeSpans[0].spans[0]: " + reason, batch.FirstRejection, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"data\":{\"resourceSpans\":[", "not valid JSON")]
    [InlineData("<html><body>login</body></html>", "not valid JSON")]
    [InlineData("[1,2]", "expected a JSON object with 'data', got an array")]
    [InlineData("{\"resourceSpans\":[]}", "has no 'data'")]
    [InlineData("{\"data\":\"x\"}", "data: expected an OTLP telemetry object")]
    [InlineData("{\"data\":{\"resourceSpans\":{}}}", "'resourceSpans' must be an array, got an object")]
    [InlineData("{\"data\":{\"resourceSpans\":[5]}}", "resourceSpans[0] must be an object, got a number")]
    [InlineData("{\"data\":{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":\"none\"}]}]}}", "resourceSpans[0].scopeSpans[0].spans must be an array, got a string")]
    [InlineData("", "empty body")]
    public void A_malformed_response_is_a_clear_error(string body, string expected)
    {
        var e = Assert.Throws<TelemetryFormatException>(() => OtlpSpanJson.ParseApiResponse(Bytes(body), SpanLimits.Default, "/api/telemetry/spans"));
        Assert.StartsWith("/api/telemetry/spans", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Length < 600, e.Message);
    }

    [Fact]
    public void A_null_data_or_missing_spans_read_as_empty()
    {
        Assert.Empty(OtlpSpanJson.ParseApiResponse(Bytes("""{"data":null,"totalCount":0}"""), SpanLimits.Default, "x").Spans);
        Assert.Empty(OtlpSpanJson.ParseApiResponse(Bytes("""{"data":{}}"""), SpanLimits.Default, "x").Spans);
        Assert.Empty(OtlpSpanJson.ParseTelemetryData(Bytes("""{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":null}]}]}"""), SpanLimits.Default, "x").Spans);
    }

    [Fact]
    public void Deep_nesting_is_refused_not_recursed()
    {
        var deep = new string('[', 5_000) + new string(']', 5_000);
        var e = Assert.Throws<TelemetryFormatException>(() => OtlpSpanJson.ParseApiResponse(Bytes("{\"data\":" + deep + "}"), SpanLimits.Default, "x"));
        Assert.Contains("not valid JSON", e.Message, StringComparison.Ordinal);
        Assert.Contains("depth", e.Message, StringComparison.OrdinalIgnoreCase);

        // Values nested deeper than the renderer follows (8 levels) are left out rather than recursed into.
        var nested = "{\"stringValue\":\"x\"}";
        for (var i = 0; i < 12; i++)
        {
            nested = "{\"arrayValue\":{\"values\":[" + nested + "]}}";
        }

        var span = Assert.Single(OtlpSpanJson.ParseTelemetryData(Bytes(Line(Span(attributes: $$"""[{"key":"deep","value":{{nested}}}]"""))), SpanLimits.Default, "x").Spans);
        Assert.Equal(new string('[', 8) + new string(']', 8), span.Attribute("deep"));
    }

    [Fact]
    public void Long_values_many_attributes_and_many_spans_are_cut_to_the_limits()
    {
        var limits = new SpanLimits(MaxSpans: 3, MaxAttributes: 2, MaxValueLength: 10);
        var attributes = "[" + string.Join(",", Enumerable.Range(0, 50).Select(i => $$$"""{"key":"k{{{i}}}","value":{"stringValue":"{{{new string('v', 5_000)}}}"}}""")) + "]";
        var spans = string.Join(",", Enumerable.Range(0, 7).Select(i => Span(spanId: $"{i + 1:x16}", attributes: attributes, name: new string('n', 100))));
        var batch = OtlpSpanJson.ParseTelemetryData(Bytes($$"""{"resourceSpans":[{"scopeSpans":[{"spans":[{{spans}}]}]}]}"""), limits, "x");
        Assert.Equal(3, batch.Spans.Count);
        Assert.Equal(4, batch.Truncated);
        Assert.All(batch.Spans, s =>
        {
            Assert.Equal(2, s.Attributes.Count);
            Assert.Equal(new string('v', 10) + "…", s.Attributes[0].Value);
            Assert.Equal(new string('n', 10) + "…", s.Name);
        });
    }

    [Fact]
    public void Numbers_times_status_and_kind_read_in_either_protojson_form()
    {
        var json = Span().Replace("\"startTimeUnixNano\":\"1000\"", "\"startTimeUnixNano\":1000", StringComparison.Ordinal)
            .Replace("\"kind\":1", "\"kind\":5", StringComparison.Ordinal)
            .Replace("\"status\":{}", "\"status\":{\"code\":\"STATUS_CODE_ERROR\"}", StringComparison.Ordinal);
        var span = Assert.Single(OtlpSpanJson.ParseTelemetryData(Bytes(Line(json)), SpanLimits.Default, "x").Spans);
        Assert.Equal((1000L, 3000L, "Consumer", "Error"), (span.StartUnixNano, span.EndUnixNano, span.Kind, span.Status));
    }

    private static string Span(string spanId = "eee19b7ec3c1b174", string attributes = "[]", string name = "block.receive") => $$$"""
        {"traceId":"{{{TraceId}}}","spanId":"{{{spanId}}}","name":"{{{name}}}","kind":1,"startTimeUnixNano":"1000","endTimeUnixNano":"3000","attributes":{{{attributes}}},"status":{}}
        """;

    private static string Line(string span, string service = "peer-1") =>
        $$$"""{"resourceSpans":[{"scopeSpans":[{"scope":{"name":"s"},"spans":[{{{span}}}]}],"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"{{{service}}}"}}]}}]}""";

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
