using System.Text.Json;
using OpenTelemetry.Exporter;

namespace Testbed.Dashboard.Tests;

/// <summary>The peer comparison and chain views over spans that synthetic peers send through the standard exporter.</summary>
public sealed class PeerViewTests
{
    private const string Root = "5a17e0000000000000000000000000000000000000000000000000000000beef";

    [Fact]
    public async Task Peer_comparison_lines_up_every_peer_and_flags_the_divergent_root_and_the_slow_download()
    {
        await using var dashboard = await TestDashboard.StartAsync();
        string traceId;
        var t0 = DateTime.UtcNow.AddSeconds(-5);
        using (var peers = new SyntheticPeers(dashboard.Host.OtlpGrpcUrl, OtlpExportProtocol.Grpc, 5))
        {
            traceId = peers.EmitBlock(12, "0000aa01", t0, Root, miner: 0, divergent: 3, slow: 2);
            peers.EmitFault("partition", "peer-3", t0.AddMilliseconds(60), 500);
            peers.Flush();
        }

        var block = Assert.Single((await dashboard.GetJsonAsync("/api/blocks/" + traceId)).EnumerateArray());
        Assert.Equal("0000aa01", block.GetProperty("blockHash").GetString());
        Assert.Equal("12", block.GetProperty("height").GetString());
        Assert.Equal("peer-1", block.GetProperty("miner").GetString());
        Assert.Equal(Root, block.GetProperty("majorityStateRoot").GetString());
        Assert.Equal(1, block.GetProperty("divergentPeers").GetInt32());
        var rows = block.GetProperty("peers").EnumerateArray().ToDictionary(p => p.GetProperty("peer").GetString()!);
        Assert.Equal(["peer-1", "peer-2", "peer-3", "peer-4", "peer-5"], rows.Keys.Order());
        Assert.True(rows["peer-4"].GetProperty("diverged").GetBoolean());
        Assert.Contains("differs from the majority", rows["peer-4"].GetProperty("problems")[0].GetString(), StringComparison.Ordinal);
        Assert.False(rows["peer-2"].GetProperty("diverged").GetBoolean());

        // Receive → download → verify → replay, in pipeline order, on every receiving peer.
        var stages = rows["peer-2"].GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["block.receive", "torrent.download", "block.verify.signature", "block.verify.pow", "block.verify.transactions", "vm.replay"], stages);
        var slowDownload = rows["peer-3"].GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "torrent.download");
        Assert.True(slowDownload.GetProperty("outlier").GetBoolean());
        Assert.True(rows["peer-3"].GetProperty("outlier").GetBoolean());
        Assert.False(rows["peer-2"].GetProperty("outlier").GetBoolean());

        var fault = Assert.Single(block.GetProperty("faults").EnumerateArray());
        Assert.Equal("partition", fault.GetProperty("kind").GetString());

        var list = Assert.Single((await dashboard.GetJsonAsync("/api/blocks")).EnumerateArray());
        Assert.Equal(traceId, list.GetProperty("traceId").GetString());
        Assert.Equal(5, list.GetProperty("peerCount").GetInt32());

        // The waterfall of the same trace carries the overlapping fault too.
        var detail = await dashboard.GetJsonAsync("/api/traces/" + traceId);
        Assert.Single(detail.GetProperty("faults").EnumerateArray());
        Assert.Equal(5, detail.GetProperty("spans").EnumerateArray().Select(s => s.GetProperty("peer").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task Chain_view_shows_heights_per_peer_forks_and_reorgs()
    {
        await using var dashboard = await TestDashboard.StartAsync();
        var t0 = DateTime.UtcNow.AddSeconds(-30);
        using (var peers = new SyntheticPeers(dashboard.Host.OtlpHttpUrl, OtlpExportProtocol.HttpProtobuf, 3))
        {
            peers.EmitBlock(1, "0001", t0, Root);
            peers.EmitBlock(2, "0002", t0.AddSeconds(2), Root, miner: 1);
            peers.EmitBlock(3, "0003a", t0.AddSeconds(4), Root, miner: 0);
            peers.EmitBlock(3, "0003b", t0.AddSeconds(4.1), Root, miner: 2);
            peers.EmitReorg(2, 1, "0003b", "0003a", t0.AddSeconds(6));
            peers.Flush();
        }

        var chain = await dashboard.GetJsonAsync("/api/chain");
        var tips = chain.GetProperty("peers").EnumerateArray().ToDictionary(p => p.GetProperty("peer").GetString()!, p => p.GetProperty("tipHeight").GetInt64());
        Assert.Equal(3, tips.Count);
        Assert.All(tips.Values, height => Assert.Equal(3, height));
        var reorg = Assert.Single(chain.GetProperty("reorgs").EnumerateArray());
        Assert.Equal("peer-3", reorg.GetProperty("peer").GetString());
        Assert.Equal("1", reorg.GetProperty("depth").GetString());
        var fork = Assert.Single(chain.GetProperty("forks").EnumerateArray());
        Assert.Equal(3, fork.GetProperty("height").GetInt64());
        Assert.Equal(["0003a", "0003b"], fork.GetProperty("hashes").EnumerateArray().Select(h => h.GetString()!));
    }

    [Fact]
    public async Task Selected_traces_export_as_otlp_json_that_another_dashboard_accepts_unchanged()
    {
        await using var first = await TestDashboard.StartAsync();
        await using var second = await TestDashboard.StartAsync();
        string traceId;
        using (var peers = new SyntheticPeers(first.Host.OtlpGrpcUrl, OtlpExportProtocol.Grpc, 3))
        {
            traceId = peers.EmitBlock(5, "0005", DateTime.UtcNow, Root);
            peers.EmitBlock(6, "0006", DateTime.UtcNow, Root);
            peers.Flush();
        }

        var json = await first.Api.GetStringAsync("/api/export?traceIds=" + traceId);
        using var document = JsonDocument.Parse(json);
        var resourceSpans = document.RootElement.GetProperty("resourceSpans").EnumerateArray().ToArray();
        Assert.Equal(3, resourceSpans.Length);
        var span = resourceSpans[0].GetProperty("scopeSpans")[0].GetProperty("spans")[0];
        Assert.Equal(traceId, span.GetProperty("traceId").GetString());
        Assert.Equal(16, span.GetProperty("spanId").GetString()!.Length);
        Assert.Equal(JsonValueKind.Number, span.GetProperty("kind").ValueKind);

        using var http = new HttpClient();
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri(second.Host.OtlpHttpUrl, "/v1/traces"), content);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);

        var original = await first.GetJsonAsync("/api/traces/" + traceId);
        var copy = await second.GetJsonAsync("/api/traces/" + traceId);
        Assert.Equal(Normalize(original), Normalize(copy));
        Assert.Equal(1, second.Host.Telemetry.Traces.Counts().Traces);
    }

    [Theory]
    [InlineData("grpc")]
    [InlineData("http/protobuf")]
    public async Task Otlp_forward_sends_a_copy_of_everything_to_another_endpoint(string protocol)
    {
        await using var target = await TestDashboard.StartAsync();
        await using var dashboard = await TestDashboard.StartAsync(o =>
        {
            o.ForwardUrl = protocol == "grpc" ? target.Host.OtlpGrpcUrl : target.Host.OtlpHttpUrl;
            o.ForwardProtocol = protocol;
        });
        string traceId;
        using (var peers = new SyntheticPeers(dashboard.Host.OtlpGrpcUrl, OtlpExportProtocol.Grpc, 3))
        {
            traceId = peers.EmitBlock(9, "0009", DateTime.UtcNow, Root);
            peers.Flush();
        }

        var expected = dashboard.Host.Telemetry.Traces.Counts().Spans;
        await TestDashboard.WaitForAsync(() => Task.FromResult(target.Host.Telemetry.Traces.Counts().Spans == expected), "the forwarded spans");
        Assert.Equal(Normalize(await dashboard.GetJsonAsync("/api/traces/" + traceId)), Normalize(await target.GetJsonAsync("/api/traces/" + traceId)));
        var overview = await dashboard.GetJsonAsync("/api/overview");
        Assert.Equal(0, overview.GetProperty("forwarding").GetProperty("failed").GetInt64());
    }

    [Fact]
    public async Task Forwarding_to_a_dead_endpoint_counts_failures_and_never_blocks_ingest()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var deadPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using var dashboard = await TestDashboard.StartAsync(o => o.ForwardUrl = new Uri($"http://127.0.0.1:{deadPort}"));
        using (var peers = new SyntheticPeers(dashboard.Host.OtlpGrpcUrl, OtlpExportProtocol.Grpc, 2))
        {
            peers.EmitBlock(1, "0001", DateTime.UtcNow, Root);
            peers.Flush();
        }

        Assert.Equal(1, dashboard.Host.Telemetry.Traces.Counts().Traces);
        await TestDashboard.WaitForAsync(async () =>
            (await dashboard.GetJsonAsync("/api/overview")).GetProperty("forwarding").GetProperty("failed").GetInt64() > 0, "a counted forwarding failure");
    }

    private static string Normalize(JsonElement detail) =>
        string.Join("\n", detail.GetProperty("spans").EnumerateArray().Select(s => s.GetRawText()).Order(StringComparer.Ordinal));
}
