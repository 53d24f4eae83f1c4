using System.Text.Json;
using Testbed.Contracts.Settings;

namespace Testbed.Inspector.Tests;

/// <summary>
/// End to end against the real Aspire dashboard 13.6.5 (the package's executable, run standalone): synthetic peers send a
/// block's spans to it over OTLP from three tracer providers (service.name peer-1..3), the inspector reads them back
/// through the dashboard's telemetry API and compares the peers; a wrong API key is reported; with the dashboard
/// stopped the inspector keeps serving and says it is unreachable, and reads again once the dashboard is back.
/// </summary>
public sealed class RealDashboardTests
{
    private const string Root = "6646f8c756004d6307f04eb0de8530bbd649850f0f46b3427a085e6fe30e20ba";

    private static readonly string[] ReceiverStages =
        ["block.receive", "torrent.download", "block.verify.signature", "block.verify.pow", "block.verify.transactions", "vm.replay"];

    [Fact]
    public async Task The_inspector_compares_a_block_seen_by_three_peers_and_keeps_serving_while_the_dashboard_is_down()
    {
        await using var dashboard = await AspireDashboardProcess.StartAsync();
        await using var inspector = await InspectorApp.StartAsync(new Dictionary<string, string?>
        {
            [InspectorSettings.DashboardUrl.Key] = dashboard.FrontendUrl.ToString(),
            [InspectorSettings.DashboardApiKey.Key] = dashboard.ApiKey,
        });
        await Eventually.GetAsync(inspector.StatusAsync, s => s.GetProperty("reachable").GetBoolean(), "the inspector to open the dashboard's span stream");

        string traceId;
        var t0 = DateTime.UtcNow.AddSeconds(-2);
        // No testbed.peer attribute: the peers are named by their resources' service.name, as the dashboard returns them.
        using (var peers = SyntheticPeers.Otlp(dashboard.OtlpGrpcUrl, dashboard.OtlpHttpUrl, 3, tagPeer: false))
        {
            traceId = peers.EmitBlock(5, "00000ab5", t0, Root, miner: 0, divergent: 2);
            peers.EmitFault("partition", "peer-3", t0.AddMilliseconds(30), 400);
            peers.Flush();
        }

        var block = await Eventually.GetAsync(
            async () => Assert.Single((await inspector.GetJsonAsync("/api/blocks/" + traceId)).EnumerateArray()),
            b => b.GetProperty("peers").GetArrayLength() == 3 && b.GetProperty("peers").EnumerateArray().All(p => Stages(p).Contains("vm.replay"))
                && b.GetProperty("faults").GetArrayLength() == 1,
            "three peer lanes, each through vm.replay, and the fault");
        var lanes = block.GetProperty("peers").EnumerateArray().ToDictionary(p => p.GetProperty("peer").GetString()!);
        Assert.Equal(["peer-1", "peer-2", "peer-3"], lanes.Keys);
        Assert.Equal(["block.produce", "block.mine", "block.sign", "block.announce", "vm.replay"], Stages(lanes["peer-1"]));
        Assert.Equal(ReceiverStages, Stages(lanes["peer-2"]));
        Assert.Equal(ReceiverStages, Stages(lanes["peer-3"]));
        Assert.Equal(("peer-1", "5", "00000ab5", Root), (Text(block, "miner"), Text(block, "height"), Text(block, "blockHash"), Text(block, "majorityStateRoot")));
        Assert.Equal(Root, Text(lanes["peer-1"], "stateRoot"));
        Assert.Equal(Root, Text(lanes["peer-2"], "stateRoot"));
        Assert.Equal("ff" + Root[2..], Text(lanes["peer-3"], "stateRoot"));
        Assert.True(lanes["peer-3"].GetProperty("diverged").GetBoolean());
        Assert.Equal(1, block.GetProperty("divergentPeers").GetInt32());
        Assert.Equal("partition", Text(block.GetProperty("faults")[0], "kind"));
        Assert.Equal(new Uri(dashboard.FrontendUrl, $"/traces/detail/{traceId}").ToString(), Text(block, "dashboardTraceUrl"));
        Assert.Equal(3, (await inspector.GetJsonAsync("/api/chain")).GetProperty("peers").EnumerateArray().Count(p => p.GetProperty("tipHeight").GetInt64() == 5));

        // The link the inspector gives is a page the dashboard serves.
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
        using (var page = await http.GetAsync(new Uri(Text(block, "dashboardTraceUrl")!)))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        }

        // The dashboard goes away: the inspector keeps what it read and says why it reads no more.
        await dashboard.StopAsync();
        var down = await Eventually.GetAsync(inspector.StatusAsync, s => !s.GetProperty("reachable").GetBoolean(), "the inspector to notice the dashboard is gone");
        Assert.StartsWith("dashboard unreachable: ", Text(down, "error"), StringComparison.Ordinal);
        Assert.Equal("unreachable", Text(down, "state"));
        Assert.True(down.GetProperty("spansHeld").GetInt64() >= 18, down.ToString());
        var held = Assert.Single((await inspector.GetJsonAsync("/api/blocks/" + traceId)).EnumerateArray());
        Assert.Equal(3, held.GetProperty("peers").GetArrayLength());
        Assert.Single((await inspector.GetJsonAsync("/api/blocks")).EnumerateArray());
        using (var health = await inspector.Http.GetAsync(new Uri("/health", UriKind.Relative)))
        {
            Assert.Equal((HttpStatusCode.OK, "Degraded"), (health.StatusCode, await health.Content.ReadAsStringAsync()));
        }

        using (var home = await inspector.Http.GetAsync(new Uri("/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        }

        var (status, _, problem) = await inspector.GetProblemAsync("/api/blocks/" + new string('b', 32));
        Assert.Equal(404, status);
        Assert.Contains("dashboard unreachable: ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Back again (empty, as a restarted dashboard is): the inspector reconnects by itself and reads new blocks.
        await dashboard.RestartAsync();
        await Eventually.GetAsync(inspector.StatusAsync, s => s.GetProperty("reachable").GetBoolean(), "the inspector to reconnect to the restarted dashboard");
        string second;
        using (var peers = SyntheticPeers.Otlp(dashboard.OtlpGrpcUrl, dashboard.OtlpHttpUrl, 3, tagPeer: true))
        {
            second = peers.EmitBlock(6, "00000ab6", DateTime.UtcNow, Root, miner: 1);
            peers.Flush();
        }

        await Eventually.GetAsync(
            async () => (await inspector.GetJsonAsync("/api/blocks")).EnumerateArray().Select(b => Text(b, "traceId")).ToArray(),
            ids => ids.SequenceEqual([second, traceId]),
            "the new block listed before the one read before the restart");
        var after = await inspector.StatusAsync();
        Assert.True(after.GetProperty("connects").GetInt64() >= 2, after.ToString());
        Assert.Equal(JsonValueKind.Null, after.GetProperty("error").ValueKind);
    }

    [Fact]
    public async Task Endpoints_and_a_wrong_api_key_as_the_real_dashboard_answers_them()
    {
        await using var dashboard = await AspireDashboardProcess.StartAsync();
        string traceId;
        using (var peers = SyntheticPeers.Otlp(dashboard.OtlpGrpcUrl, dashboard.OtlpHttpUrl, 2, tagPeer: true))
        {
            traceId = peers.EmitBlock(1, "0001", DateTime.UtcNow, Root);
            peers.Flush();
        }

        // The client against the documented endpoints: a snapshot, one trace, a missing trace, the probe.
        using var client = new TelemetryApiClient(TelemetryApiClientTests.Options(dashboard.FrontendUrl.ToString(), dashboard.ApiKey));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var snapshot = await Eventually.GetAsync(() => client.GetSpansAsync(1_000, cancel.Token), b => b.Spans.Count == 11, "the 11 spans in the dashboard");
        Assert.Equal(11, snapshot.TotalCount);
        Assert.Equal(["peer-1", "peer-2"], snapshot.Spans.Select(s => s.ServiceName).Distinct().Order());
        Assert.All(snapshot.Spans, s => Assert.Equal(traceId, s.TraceId));
        Assert.Contains(snapshot.Spans, s => s is { Name: "vm.replay", Peer: "peer-2" } && s.Attribute("vm.state_root") == Root && s.Attribute("block.height") == "1");
        Assert.Equal(11, (await client.GetTraceAsync(traceId, cancel.Token))!.Spans.Count);
        Assert.Null(await client.GetTraceAsync(new string('c', 32), cancel.Token));
        await client.ProbeAsync(cancel.Token);

        // A wrong key: the dashboard answers 401, the inspector says so and names the setting, and stays up.
        await using var inspector = await InspectorApp.StartAsync(new Dictionary<string, string?>
        {
            [InspectorSettings.DashboardUrl.Key] = dashboard.FrontendUrl.ToString(),
            [InspectorSettings.DashboardApiKey.Key] = "not-" + dashboard.ApiKey,
        });
        var status = await Eventually.GetAsync(inspector.StatusAsync, s => s.GetProperty("failures").GetInt64() > 0, "the inspector to be refused");
        Assert.False(status.GetProperty("reachable").GetBoolean());
        // The span stream or a probe (/api/telemetry/resources), whichever the dashboard refused first.
        Assert.Matches(
            "^dashboard unreachable: HTTP 401 Unauthorized from /api/telemetry/(spans|resources): the dashboard refused the API key; Inspector__DashboardApiKey must equal the dashboard's Dashboard:Api:PrimaryApiKey$",
            Text(status, "error"));
        Assert.Equal(0, status.GetProperty("spansHeld").GetInt64());
        Assert.Empty((await inspector.GetJsonAsync("/api/blocks")).EnumerateArray());
        using var health = await inspector.Http.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal((HttpStatusCode.OK, "Degraded"), (health.StatusCode, await health.Content.ReadAsStringAsync()));
    }

    private static string[] Stages(JsonElement lane) => lane.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToArray();

    private static string? Text(JsonElement element, string property) => element.GetProperty(property).GetString();
}
