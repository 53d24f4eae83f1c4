using Testbed.Contracts.Settings;

namespace Testbed.Inspector.Tests;

/// <summary>
/// The inspector's pages and JSON API, in process, with no dashboard to read (its address refuses connections) and spans
/// put straight into its store: it serves what it holds, says why the dashboard cannot be read, and answers errors as
/// problem details.
/// </summary>
public sealed class InspectorApiTests
{
    private const string Root = "6646f8c756004d6307f04eb0de8530bbd649850f0f46b3427a085e6fe30e20ba";

    [Fact]
    public async Task Serves_what_it_holds_and_says_the_dashboard_is_unreachable()
    {
        var port = TelemetryApiClientTests.DeadPort();
        await using var inspector = await InspectorApp.StartAsync(new Dictionary<string, string?>
        {
            [InspectorSettings.DashboardUrl.Key] = $"http://127.0.0.1:{port}",
            [InspectorSettings.DashboardApiKey.Key] = "k",
            [InspectorSettings.DashboardBrowserUrl.Key] = "http://dashboard.example:18888/",
        });
        using var peers = SyntheticPeers.InMemory(3);
        var traceId = peers.EmitBlock(7, "00c0ffee", DateTime.UtcNow, Root, divergent: 2);
        peers.EmitFault("partition", "peer-2", DateTime.UtcNow, 200);
        foreach (var line in DashboardJson.StreamLines(peers.Exported))
        {
            inspector.Store.Add(OtlpSpanJson.ParseTelemetryData(Encoding.UTF8.GetBytes(line), SpanLimits.Default, "test").Spans);
        }

        var status = await Eventually.GetAsync(inspector.StatusAsync, s => s.GetProperty("failures").GetInt64() > 0, "a failed read of the dead dashboard");
        Assert.False(status.GetProperty("reachable").GetBoolean());
        Assert.Equal("unreachable", status.GetProperty("state").GetString());
        Assert.Equal($"dashboard unreachable: Connection refused (127.0.0.1:{port})", status.GetProperty("error").GetString());
        Assert.Equal($"http://127.0.0.1:{port}", status.GetProperty("dashboardUrl").GetString());
        Assert.Equal(18, status.GetProperty("spansHeld").GetInt64());
        Assert.Equal(2, status.GetProperty("tracesHeld").GetInt32()); // the block's trace and the fault's
        Assert.Equal(5_000, status.GetProperty("maxTraces").GetInt32());
        // The UI reads /api/status as one flat object: the dashboard reading's fields beside the store's, none nested.
        Assert.Equal(
            ["connectedSinceUtc", "connects", "dashboardBrowserUrl", "dashboardUrl", "droppedSpans", "duplicates", "error", "evictedTraces", "failures",
             "ignored", "lastSpanUtc", "lastStreamProblem", "lastSuccessfulReadUtc", "malformedLines", "maxSpans", "maxTraces", "nextAttemptUtc",
             "oversizedLines", "reachable", "rejectedSpans", "spansAdded", "spansHeld", "state", "streamLines", "tracesHeld", "version"],
            status.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        using (var health = await inspector.Http.GetAsync(new Uri("/health", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Degraded", await health.Content.ReadAsStringAsync());
        }

        var list = Assert.Single((await inspector.GetJsonAsync("/api/blocks")).EnumerateArray());
        Assert.Equal(traceId, list.GetProperty("traceId").GetString());
        Assert.Equal($"http://dashboard.example:18888/traces/detail/{traceId}", list.GetProperty("dashboardTraceUrl").GetString());
        var block = Assert.Single((await inspector.GetJsonAsync("/api/blocks/" + traceId.ToUpperInvariant())).EnumerateArray());
        Assert.Equal(["peer-1", "peer-2", "peer-3"], block.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("peer").GetString()));
        Assert.Equal(1, block.GetProperty("divergentPeers").GetInt32());
        Assert.Equal("partition", Assert.Single(block.GetProperty("faults").EnumerateArray()).GetProperty("kind").GetString());
        var chain = await inspector.GetJsonAsync("/api/chain");
        Assert.All(chain.GetProperty("peers").EnumerateArray(), p => Assert.Equal(7, p.GetProperty("tipHeight").GetInt64()));
        var peer = await inspector.GetJsonAsync("/api/peers/peer-3");
        Assert.True(peer.GetProperty("blocks")[0].GetProperty("diverged").GetBoolean());
        Assert.Equal(3, (await inspector.GetJsonAsync("/api/peers")).GetArrayLength());
        Assert.Single((await inspector.GetJsonAsync("/api/faults")).EnumerateArray());

        foreach (var page in new[] { "/", "/blocks/" + traceId, "/chain", "/peers", "/peers/peer-1" })
        {
            using var response = await inspector.Http.GetAsync(new Uri(page, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<script src=\"/assets/app.js\"></script>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var script = await inspector.Http.GetAsync(new Uri("/assets/app.js", UriKind.Relative));
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Errors_are_problem_details_naming_what_was_wrong()
    {
        var port = TelemetryApiClientTests.DeadPort();
        await using var inspector = await InspectorApp.StartAsync(
            new Dictionary<string, string?> { [InspectorSettings.DashboardUrl.Key] = $"http://127.0.0.1:{port}" });
        await Eventually.GetAsync(inspector.StatusAsync, s => s.GetProperty("failures").GetInt64() > 0, "a failed read of the dead dashboard");

        var cases = new (string Path, int Status, string Detail)[]
        {
            ("/api/blocks/not-a-trace", 400, "traceId must be 32 hex digits, not 'not-a-trace'."),
            ("/api/blocks?limit=0", 400, "limit must be an integer between 1 and 10000, not '0'."),
            ("/api/blocks?limit=x", 400, "limit must be an integer between 1 and 10000, not 'x'."),
            ("/api/blocks/" + new string('a', 32), 404, $"Trace {new string('a', 32)} is not held by the inspector, and the dashboard cannot be asked: dashboard unreachable: Connection refused (127.0.0.1:{port})."),
            ("/api/peers/peer-9", 404, "No span of peer 'peer-9' is held (peers are named by testbed.peer, else service.name)."),
            ("/api/nothing/here", 404, "GET /api/nothing/here is not an inspector API; see /api/status, /api/blocks, /api/blocks/{traceId}, /api/chain, /api/peers, /api/peers/{name}, /api/faults."),
            ("/assets/missing.js", 404, "No asset 'missing.js'."),
        };
        foreach (var (path, status, detail) in cases)
        {
            var (code, type, body) = await inspector.GetProblemAsync(path);
            Assert.Equal((path, status, "application/problem+json"), (path, code, type));
            Assert.Equal(detail, body.GetProperty("detail").GetString());
            Assert.Equal(status, body.GetProperty("status").GetInt32());
            Assert.False(body.TryGetProperty("exception", out _));
        }

        var (pageStatus, pageType, _) = await inspector.GetProblemAsync("/no/such/page");
        Assert.Equal((404, "application/problem+json"), (pageStatus, pageType));
    }

    [Fact]
    public void A_missing_dashboard_url_stops_the_inspector_with_the_settings_name()
    {
        var builder = InspectorApp.Builder(new Dictionary<string, string?> { [InspectorSettings.DashboardApiKey.Key] = "k" });
        var e = Assert.Throws<InvalidOperationException>(() => builder.AddInspector());
        Assert.Equal(
            "Inspector settings: Inspector__DashboardUrl is required: the base URL of the Aspire dashboard, where its telemetry API is served (e.g. http://127.0.0.1:18888).",
            e.Message);
    }

    [Fact]
    public void Unreadable_limits_are_refused_before_binding_naming_each_setting_and_its_range()
    {
        var builder = InspectorApp.Builder(new Dictionary<string, string?>
        {
            [InspectorSettings.DashboardUrl.Key] = "http://127.0.0.1:18888",
            [InspectorSettings.MaxTraces.Key] = "many",
            [InspectorSettings.ProbeInterval.Key] = "5s",
        });
        var e = Assert.Throws<InvalidOperationException>(() => builder.AddInspector());
        Assert.Equal(
            "Inspector settings: Inspector__MaxTraces (Inspector:MaxTraces) must be a whole number from 1 to 2147483647 (traces held), not 'many'. "
            + "Inspector__ProbeInterval (Inspector:ProbeInterval) must be a duration from 00:00:00.0000001 to 01:00:00 "
            + "(between probes of the dashboard, e.g. 00:00:05), not '5s'.",
            e.Message);
    }
}
