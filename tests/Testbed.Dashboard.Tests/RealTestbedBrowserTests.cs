using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Playwright;
using Testbed.Testing;
using Xunit.Abstractions;

namespace Testbed.Dashboard.Tests;

/// <summary>
/// Debian's headless Chromium, driven by Playwright, against the dashboard of a running testbed: the AppHost's own model
/// (tracker, real peer processes, chaos) started through the harness and exporting OTLP to the dashboard. A peer mines a
/// block through its HTTP API; the block's trace, continued by every receiving peer, is opened in the waterfall and in
/// the peer comparison. Screenshots go to <c>bin/&lt;config&gt;/net10.0/screenshots/real-testbed/</c>.
/// </summary>
public sealed class RealTestbedBrowserTests(ITestOutputHelper output)
{
    private const int Peers = 3;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots", "real-testbed");

    [Fact]
    public async Task A_block_mined_by_a_real_peer_shows_spans_of_every_peer_in_the_waterfall_and_the_peer_comparison()
    {
        Assert.True(File.Exists(BrowserTests.Chromium), $"{BrowserTests.Chromium} is missing: install Debian's chromium (apt-get install -y chromium).");
        Directory.CreateDirectory(Screenshots);
        foreach (var stale in Directory.GetFiles(Screenshots, "*.png"))
        {
            File.Delete(stale);
        }

        var clock = Stopwatch.StartNew();

        // As the AppHost runs it: the dashboard's receivers first, then the testbed exporting to them, then the control API.
        await using var dashboard = await TestDashboard.StartAsync();
        await using var testbed = await DistributedTestbed.StartAsync(o =>
        {
            o.Peers = Peers;
            o.DifficultyBits = 8;
            o.OtlpEndpoint = dashboard.Host.OtlpGrpcUrl.ToString();
            o.StartupTimeoutSeconds = 120;
        });
        dashboard.Host.SetControlApiUrl(testbed.ControlApiUrl);
        var names = testbed.Resources.Select(r => r.Name).ToArray();
        var peerNames = Enumerable.Range(1, Peers).Select(i => $"peer-{i}").ToArray();
        output.WriteLine($"testbed running after {clock.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", names)}");
        Assert.Contains("tracker", names);
        Assert.Contains("chaos", names);
        Assert.All(peerNames, peer => Assert.Contains(peer, names));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(BrowserTests.LaunchOptions());
        IPage? page = null;
        try
        {
            // The peers found each other through the tracker: each has the other two connected, so the block reaches all.
            var peerClients = peerNames.ToDictionary(p => p, p => testbed.CreateHttpClient(p));
            await testbed.WaitForAsync(async () =>
            {
                foreach (var (name, client) in peerClients)
                {
                    var status = await PollStatusAsync(client);
                    var connected = status.GetProperty("connectedPeers").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToHashSet();
                    if (!status.GetProperty("ready").GetBoolean() || peerNames.Any(other => other != name && !connected.Contains(other)))
                    {
                        return false;
                    }
                }

                return true;
            }, Patience, "every peer connected to every other peer", failFastOn: names);
            output.WriteLine($"peers connected after {clock.Elapsed.TotalSeconds:0.0} s");

            // peer-1 mines one block on demand (its API), and every peer ends on that block.
            using var mining = await peerClients["peer-1"].PostAsJsonAsync("/mining", new { action = "mine", blocks = 1 });
            var miningBody = await mining.Content.ReadAsStringAsync();
            Assert.True(mining.IsSuccessStatusCode, $"POST /mining: {(int)mining.StatusCode} {miningBody}");
            var mined = JsonDocument.Parse(miningBody).RootElement.GetProperty("mined").EnumerateArray().Single();
            var blockHash = mined.GetProperty("hash").GetString()!;
            output.WriteLine($"peer-1 mined block {blockHash} at height {mined.GetProperty("height").GetInt64()} after {clock.Elapsed.TotalSeconds:0.0} s");
            await testbed.WaitForAsync(async () =>
            {
                foreach (var client in peerClients.Values)
                {
                    var status = await PollStatusAsync(client);
                    if (status.GetProperty("tipHash").GetString() != blockHash)
                    {
                        return false;
                    }
                }

                return true;
            }, Patience, $"every peer's tip to be block {blockHash}", failFastOn: names);

            // Its trace reaches the dashboard: rooted at peer-1's block.produce, with a replay on every receiving peer.
            string? traceId = null;
            await testbed.WaitForAsync(async () =>
            {
                var list = await dashboard.GetJsonAsync($"/api/traces?name=block.produce&attr=block.hash={blockHash}&limit=10");
                traceId = list.GetProperty("traces").EnumerateArray().Select(t => t.GetProperty("traceId").GetString()).SingleOrDefault();
                if (traceId is null)
                {
                    return false;
                }

                // Each span is exported when it ends, a parent after its children: wait for the ones the UI is checked for.
                var spans = (await dashboard.GetJsonAsync($"/api/traces/{traceId}")).GetProperty("spans").EnumerateArray()
                    .Select(s => (Name: s.GetProperty("name").GetString(), Peer: s.GetProperty("peer").GetString())).ToHashSet();
                return spans.Contains(("block.produce", "peer-1"))
                    && peerNames.Skip(1).All(peer => spans.Contains(("block.receive", peer)) && spans.Contains(("vm.replay", peer)));
            }, Patience, $"the trace of block {blockHash} with block.produce by peer-1 and block.receive and vm.replay by every other peer", failFastOn: names);
            // The chaos controller polls every peer's /status (and the AppHost probes /health) every second: polls make no
            // traces at either end (TelemetryPolls, ServiceDefaults), so the list holds the work, not the watching.
            var all = (await dashboard.GetJsonAsync("/api/traces?limit=10000")).GetProperty("traces").EnumerateArray().ToArray();
            output.WriteLine($"{all.Length} traces stored: " + string.Join(", ", all.GroupBy(t => t.GetProperty("rootName").GetString())
                .OrderByDescending(g => g.Count()).Select(g => $"{g.Key} x{g.Count()}")));
            foreach (var path in new[] { "/status", "/health", "/alive" })
            {
                var polls = await dashboard.GetJsonAsync($"/api/traces?attr=url.path={path}&limit=10");
                Assert.True(polls.GetProperty("matched").GetInt32() == 0, $"traces of {path} requests: {polls}");
                var clientPolls = await dashboard.GetJsonAsync($"/api/traces?attr=url.full={path}&limit=10");
                Assert.True(clientPolls.GetProperty("matched").GetInt32() == 0, $"traces of {path} requests: {clientPolls}");
            }

            var detail = await dashboard.GetJsonAsync($"/api/traces/{traceId}");
            foreach (var span in detail.GetProperty("spans").EnumerateArray())
            {
                output.WriteLine($"  {span.GetProperty("peer").GetString(),-8} {span.GetProperty("name").GetString()} ({span.GetProperty("source").GetString()})");
            }

            page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
            page.SetDefaultTimeout(60_000);
            var ui = dashboard.Host.UiUrl.ToString().TrimEnd('/');

            // Resources: tracker, every peer and chaos, each Running, as the live view shows them.
            await page.GotoAsync(ui + "/#/resources");
            foreach (var name in names)
            {
                await page.WaitForSelectorAsync($"#resources tr[data-name='{name}']");
            }

            var rows = await page.Locator("#resources tbody tr[data-name]").EvaluateAllAsync<string[][]>(
                "rows => rows.map(r => [r.dataset.name, r.querySelector('td:nth-child(3) .badge').textContent.trim()])");
            Assert.Equal(names.Order(StringComparer.Ordinal), rows.Select(r => r[0]).Order(StringComparer.Ordinal));
            Assert.All(rows, row => Assert.True(row[1] == "Running", $"{row[0]} is {row[1]} in the resources view"));
            Assert.Equal(6, await page.Locator("#resources tr[data-name='peer-1'] .cmds button").CountAsync());
            await Shot(page, "01-resources");

            // peer-1's console, through the control API.
            await page.GotoAsync(ui + "/#/console/peer-1");
            await page.WaitForSelectorAsync("#console div:has-text('ready to join')");
            await Shot(page, "02-console");

            // The trace list, filtered in the UI to block productions, then the mined block's row opens its waterfall.
            await page.GotoAsync(ui + "/#/traces");
            await page.WaitForSelectorAsync("#traces tbody tr");
            await page.FillAsync("#traces-name", "block.produce");
            await page.FillAsync("#traces-attr", "block.hash=" + blockHash);
            await page.ClickAsync("#traces-apply");
            // Filtered: the block's trace is the only row (the list re-renders once the filter reaches the URL).
            await page.WaitForFunctionAsync(
                "id => { const rows = document.querySelectorAll('#traces tbody tr[data-trace]'); return location.hash.includes('block.produce') && rows.length === 1 && rows[0].dataset.trace === id; }",
                traceId);
            Assert.Contains("1 shown of 1 matching", await page.InnerTextAsync("#traces-count"), StringComparison.Ordinal);
            await Shot(page, "03-traces");
            await page.ClickAsync($"#traces tr[data-trace='{traceId}'] td:nth-child(3)");
            await page.WaitForSelectorAsync("#waterfall .wf-row[data-span]");

            // The waterfall's rows (in the DOM, not the API): block.produce by the miner, and spans of every peer.
            var waterfall = await page.Locator("#waterfall .wf-row[data-span] .wf-name").EvaluateAllAsync<string[][]>(
                "names => names.map(n => [n.firstChild.nextSibling.textContent.trim(), n.querySelector('.muted').textContent.trim()])");
            var wfPeers = waterfall.Select(r => r[1]).Distinct().Order(StringComparer.Ordinal).ToArray();
            output.WriteLine($"waterfall: {waterfall.Length} rows from {string.Join(", ", wfPeers)}");
            Assert.True(wfPeers.Length >= 3, "the waterfall shows spans of only " + string.Join(", ", wfPeers));
            Assert.Equal(peerNames, wfPeers.Intersect(peerNames).Order(StringComparer.Ordinal));
            Assert.Contains(waterfall, r => r[0] == "block.produce" && r[1] == "peer-1");
            foreach (var receiver in peerNames.Skip(1))
            {
                Assert.Contains(waterfall, r => r[0] == "block.receive" && r[1] == receiver);
                Assert.Contains(waterfall, r => r[0] == "vm.replay" && r[1] == receiver);
            }

            await page.Locator("#waterfall .wf-row[data-span]", new PageLocatorOptions { HasText = "block.receive" }).First.ClickAsync();
            await page.WaitForSelectorAsync($"#span-detail:has-text('{blockHash}')");
            await Shot(page, "04-waterfall");

            // The peer comparison of the block: one lane per peer, every peer's state root the same (real peers agree).
            await page.ClickAsync("#open-compare");
            await page.WaitForSelectorAsync($".cmp-block[data-block='{blockHash}']");
            var block = page.Locator($".cmp-block[data-block='{blockHash}']");
            Assert.Equal(Peers, await block.Locator(".cmp-grid .lane").CountAsync());
            var lanePeers = (await block.Locator(".cmp-grid .lane").EvaluateAllAsync<string[]>(
                "lanes => lanes.map(l => l.previousElementSibling.firstChild.nextSibling.textContent.trim())")).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(peerNames, lanePeers);
            Assert.Equal(0, await block.Locator(".diverged").CountAsync());
            Assert.Equal(0, await block.Locator(".stage.failed").CountAsync());
            Assert.Equal(0, await block.Locator(".problems").CountAsync());
            Assert.Contains("miner: peer-1", await block.Locator(".cmp-head").InnerTextAsync(), StringComparison.Ordinal);
            foreach (var receiver in peerNames.Skip(1))
            {
                Assert.Equal(1, await block.Locator($".cmp-grid .lane .stage[title^='{receiver} block.receive:']").CountAsync());
                Assert.Equal(1, await block.Locator($".cmp-grid .lane .stage[title^='{receiver} vm.replay:']").CountAsync());
            }
            await Shot(page, "05-peer-comparison");

            // The chain view: every peer at height 1 on the mined block.
            await page.GotoAsync(ui + "/#/chain");
            await page.WaitForSelectorAsync("#tips tbody tr");
            var tips = await page.Locator("#tips tbody tr").EvaluateAllAsync<string[][]>(
                "rows => rows.map(r => [...r.children].slice(0, 3).map(c => c.textContent.trim()))");
            Assert.Equal(peerNames, tips.Select(t => t[0]).Order(StringComparer.Ordinal));
            Assert.All(tips, t => Assert.Equal(["1", blockHash], t[1..]));
            await Shot(page, "06-chain");

            // The metrics the peers export (every second, over OTLP): per peer its height, its connected peers, bytes up and
            // down, and the miner's hash rate, which was above zero while peer-1 searched.
            await testbed.WaitForAsync(async () =>
                await LastValuesAsync(dashboard, "testbed.chain.height") is var heights && peerNames.All(p => heights.GetValueOrDefault(p) == 1) &&
                await LastValuesAsync(dashboard, "testbed.peers.connected") is var connected && peerNames.All(p => connected.GetValueOrDefault(p) == Peers - 1) &&
                await PeakValuesAsync(dashboard, "testbed.miner.hash_rate") is var rates && rates.GetValueOrDefault("peer-1") > 0,
                Patience, "every peer's height 1 and 2 connected peers, and peer-1's hash rate, in the dashboard's metrics", failFastOn: names);
            await page.GotoAsync(ui + "/#/metrics");
            foreach (var metric in new[] { "testbed.miner.hash_rate", "testbed.chain.height", "torrent.bytes.up", "torrent.bytes.down", "testbed.peers.connected" })
            {
                // Attached, not visible: a flat line (a steady height) has an empty bounding box.
                await page.WaitForSelectorAsync($".chart[data-chart='{metric}'] svg path", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
            }

            var heightLegend = await page.Locator(".chart[data-chart='testbed.chain.height'] .legend span").AllInnerTextsAsync();
            Assert.Equal(peerNames, heightLegend.Select(l => l.Trim()).Order(StringComparer.Ordinal));
            await Shot(page, "07-metrics");

            // A command from the UI reaches the AppHost: restart the tracker and watch it come back Running.
            await page.GotoAsync(ui + "/#/resources");
            await page.ClickAsync("#resources tr[data-name='tracker'] button[data-command='restart']");
            await page.WaitForFunctionAsync(
                "() => { const r = document.querySelector(\"#resources tr[data-name='tracker']\"); return r && r.children[6].textContent.trim() === '1' && r.children[2].textContent.includes('Running'); }",
                null, new PageWaitForFunctionOptions { Timeout = 120_000 });
            Assert.Equal(1, testbed.GetResource("tracker").Restarts);
            await Shot(page, "08-restarted");
            output.WriteLine($"done after {clock.Elapsed.TotalSeconds:0.0} s; screenshots:");
            foreach (var file in Directory.GetFiles(Screenshots, "*.png").Order(StringComparer.Ordinal))
            {
                output.WriteLine("  " + file);
            }
        }
        catch
        {
            if (page is not null)
            {
                try
                {
                    await Shot(page, "failure");
                    output.WriteLine("screenshot at the failure: " + Path.Combine(Screenshots, "failure.png"));
                }
                catch (PlaywrightException e)
                {
                    output.WriteLine("no screenshot at the failure: " + e.Message);
                }
            }

            foreach (var name in names)
            {
                output.WriteLine($"--- {name} ({testbed.GetResource(name).State}) console tail ---{Environment.NewLine}{testbed.ConsoleTail(name)}");
            }

            throw;
        }
    }

    /// <summary>GET /status, marked as a poll (as the chaos controller's) so the peer records no span for it.</summary>
    private static async Task<JsonElement> PollStatusAsync(HttpClient peer)
    {
        using var request = TelemetryPolls.Mark(new HttpRequestMessage(HttpMethod.Get, "/status"));
        using var response = await peer.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Each peer's newest value of a metric, as the dashboard's API serves it.</summary>
    private static async Task<Dictionary<string, double>> LastValuesAsync(TestDashboard dashboard, string metric) =>
        await PerPeerAsync(dashboard, metric, points => points.Last());

    /// <summary>Each peer's highest value of a metric so far.</summary>
    private static async Task<Dictionary<string, double>> PeakValuesAsync(TestDashboard dashboard, string metric) =>
        await PerPeerAsync(dashboard, metric, points => points.Max());

    private static async Task<Dictionary<string, double>> PerPeerAsync(TestDashboard dashboard, string metric, Func<IEnumerable<double>, double> pick) =>
        (await dashboard.GetJsonAsync("/api/metrics/series?name=" + metric)).EnumerateArray()
            .Select(series => (Peer: series.GetProperty("peer").GetString()!, Values: series.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("value").GetDouble()).ToArray()))
            .Where(series => series.Values.Length > 0)
            .GroupBy(series => series.Peer)
            .ToDictionary(g => g.Key, g => pick(g.SelectMany(series => series.Values)));

    private static async Task Shot(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
}
