using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Microsoft.Playwright;

namespace Testbed.AppHost.Tests;

/// <summary>
/// Debian's headless Chromium, driven by Playwright, against the real Aspire dashboard of a running testbed (the AppHost's
/// own model with three peers, started through Aspire.Hosting.Testing with the dashboard on): every resource Running,
/// peer-1's "Mine blocks" command run from its actions menu and argument dialog, the block's trace found on the Traces
/// page and opened in the waterfall with spans of all three peers, then the same trace in the inspector's peer comparison
/// with one lane per peer. Screenshots of each stage go to <c>bin/&lt;config&gt;/net10.0/screenshots/aspire-dashboard/</c>.
/// </summary>
[Collection(nameof(TestbedCollection))]
public sealed partial class DashboardBrowserTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>Longest a single UI step (a click, a selector) waits.</summary>
    private const float StepTimeoutMs = 30_000;

    /// <summary>Longest a page load waits.</summary>
    private const float NavigationTimeoutMs = 60_000;

    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private static readonly string[] PeerNames = ["peer-1", "peer-2", "peer-3"];
    private static readonly string[] ResourceNames = ["tracker", .. PeerNames, "chaos", "inspector"];

    /// <summary>How long telemetry may take to reach the dashboard and the inspector (batched export, then a read).</summary>
    private static readonly TimeSpan TelemetryPatience = TimeSpan.FromSeconds(90);

    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots", "aspire-dashboard");

    [Fact]
    public async Task Mine_from_the_dashboard_then_find_the_block_in_the_trace_waterfall_and_the_inspector()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium (apt-get install -y chromium).");
        Directory.CreateDirectory(Screenshots);
        foreach (var stale in Directory.GetFiles(Screenshots, "*.png"))
        {
            File.Delete(stale);
        }

        var clock = Stopwatch.StartNew();
        await using var testbed = await TestbedApp.StartAsync(["--peers", "3", "--difficulty", "8"], ResourceNames, output, dashboard: true);
        output.WriteLine($"testbed healthy after {clock.Elapsed.TotalSeconds:0.0} s");
        var login = await DashboardLoginUrlAsync(testbed);
        var dashboard = new Uri(login.GetLeftPart(UriPartial.Authority) + "/");
        var inspector = testbed.Url("inspector");
        output.WriteLine($"dashboard {dashboard}, inspector {inspector}");

        // The block reaches every peer in its own trace only when they are connected when it is mined (a later joiner
        // catches up in another trace): a precondition, checked on the peers' own API.
        await WaitForMeshAsync(testbed);
        output.WriteLine($"peers connected after {clock.Elapsed.TotalSeconds:0.0} s");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 120_000,
        });
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(StepTimeoutMs);
        page.SetDefaultNavigationTimeout(NavigationTimeoutMs);
        var shots = new List<string>();
        try
        {
            // 1. Log in with the browser token (the dashboard sets its cookie and goes to Resources); every resource Running.
            await page.GotoAsync(login.ToString());
            await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
            foreach (var name in ResourceNames)
            {
                await ResourceRow(page, name).Locator("td[title='Running']").WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
            }

            shots.Add(await ShotAsync(page, "01-resources-running"));
            output.WriteLine($"dashboard shows every resource Running after {clock.Elapsed.TotalSeconds:0.0} s");

            // 2. peer-1's actions menu → "Mine blocks" → the argument dialog: Blocks = 1, submit.
            await ResourceRow(page, "peer-1").GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Actions", Exact = true }).ClickAsync();
            await page.GetByRole(AriaRole.Menuitem, new PageGetByRoleOptions { Name = "Mine blocks", Exact = true }).ClickAsync();
            var dialog = page.Locator("fluent-dialog-body.interaction-input-dialog", new PageLocatorOptions { HasText = "Mine N blocks" });
            var blocks = dialog.Locator("fluent-text-input input");
            Assert.Equal("1", await blocks.InputValueAsync());
            await blocks.FillAsync("1");
            shots.Add(await ShotAsync(page, "02-mine-blocks-dialog"));
            await dialog.Locator("footer fluent-button", new LocatorLocatorOptions { HasText = "Mine blocks" }).ClickAsync();
            await dialog.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Hidden });

            // 3. The command's result in the notification centre names the block: "peer-1 mined 1 block(s): #1 00ab12cd34ef".
            await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Notifications", Exact = true }).ClickAsync();
            var entry = page.Locator(".notification-entry", new PageLocatorOptions { HasTextRegex = CommandFinished() });
            await entry.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
            var message = (await entry.Locator(".notification-entry-content").InnerTextAsync()).Trim();
            Assert.True((await entry.GetAttributeAsync("class") ?? "").Contains("intent-success", StringComparison.Ordinal), "the mine command failed: " + message);
            var mined = MinedMessage().Match(message);
            Assert.True(mined.Success, "unexpected result of the mine command: " + message);
            var height = mined.Groups["height"].Value;
            var hashPrefix = mined.Groups["hash"].Value;
            shots.Add(await ShotAsync(page, "03-mine-blocks-succeeded"));
            output.WriteLine($"\"{message}\" after {clock.Elapsed.TotalSeconds:0.0} s");

            // 4. Traces: filtered by name to block.produce, the block's trace (checked by its block.hash below) opened.
            var traceId = await OpenBlockTraceAsync(page, dashboard, hashPrefix, shots);

            // 5. The waterfall: peer-1 produced the block, peer-2 and peer-3 received and replayed it, all in this trace.
            var spans = await WaitForWaterfallAsync(page, dashboard, traceId);
            var peers = spans.Select(s => s.Resource).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            output.WriteLine($"trace {traceId}: {spans.Count} span rows from {string.Join(", ", peers)}: {string.Join(", ", spans.Select(s => $"{s.Resource}/{s.Name}"))}");
            Assert.True(peers.Length >= 3, "the waterfall shows spans of only " + string.Join(", ", peers));
            Assert.Equal(PeerNames, peers.Intersect(PeerNames).Order(StringComparer.Ordinal));
            Assert.Contains(("peer-1", "block.produce"), spans);
            foreach (var receiver in PeerNames.Skip(1))
            {
                Assert.Contains((receiver, "block.receive"), spans);
                Assert.Contains((receiver, "vm.replay"), spans);
            }

            var resourcesInHeader = await page.Locator(".trace-header-details > div", new PageLocatorOptions { HasText = "Resources" }).Locator("strong").InnerTextAsync();
            Assert.True(int.Parse(resourcesInHeader.Trim(), System.Globalization.CultureInfo.InvariantCulture) >= 3, $"the trace header counts {resourcesInHeader} resources");

            // Its block.produce span carries the hash the command reported.
            var blockHash = await OpenSpanAndReadHashAsync(page) ?? "";
            Assert.StartsWith(hashPrefix, blockHash, StringComparison.Ordinal);
            shots.Add(await ShotAsync(page, "05-trace-waterfall"));
            output.WriteLine($"block #{height} {blockHash} in trace {traceId}, waterfall checked after {clock.Elapsed.TotalSeconds:0.0} s");

            // 6. The inspector's comparison of the same trace: one lane per peer, the miner, a replay on every receiver.
            await page.GotoAsync(new Uri(inspector, "blocks/" + traceId).ToString());
            var block = page.Locator($".cmp-block[data-block='{blockHash}']");
            await page.WaitForFunctionAsync(
                """
                ([hash, receivers]) => {
                  const block = [...document.querySelectorAll('.cmp-block')].find(b => b.dataset.block === hash);
                  if (!block || block.querySelectorAll('.cmp-grid .lane').length < 3) return false;
                  const stages = peer => [...(block.querySelector(`.peer[data-peer='${peer}']`)?.nextElementSibling?.querySelectorAll('.stage') ?? [])].map(s => s.dataset.stage);
                  return receivers.every(p => stages(p).includes('block.receive') && stages(p).includes('vm.replay'));
                }
                """,
                new object[] { blockHash, PeerNames.Skip(1).ToArray() },
                new PageWaitForFunctionOptions { Timeout = (float)TelemetryPatience.TotalMilliseconds, PollingInterval = 500 });
            var lanes = await block.Locator(".cmp-grid .lane").CountAsync();
            var lanePeers = (await block.Locator(".cmp-grid .peer[data-peer]").EvaluateAllAsync<string[]>("peers => peers.map(p => p.dataset.peer)"))
                .Order(StringComparer.Ordinal).ToArray();
            output.WriteLine($"inspector: {lanes} lanes ({string.Join(", ", lanePeers)}) for block {blockHash}");
            Assert.Equal(PeerNames.Length, lanes);
            Assert.Equal(PeerNames, lanePeers);
            var head = await block.Locator(".cmp-head").InnerTextAsync();
            Assert.Contains("miner: peer-1", head, StringComparison.Ordinal);
            Assert.Contains($"Block {height}", head, StringComparison.Ordinal);
            Assert.Contains("state roots agree", head, StringComparison.Ordinal);
            Assert.Equal(0, await block.Locator(".diverged").CountAsync());
            shots.Add(await ShotAsync(page, "06-inspector-peer-comparison"));

            // The inspector's block list has the block with its three peers, linking back to the dashboard's trace.
            await page.GotoAsync(inspector.ToString());
            var row = page.Locator($"#blocks tbody tr[data-trace='{traceId}']");
            await row.WaitForAsync();
            Assert.Equal("3", (await row.Locator("td").Nth(4).InnerTextAsync()).Trim());
            Assert.Equal(new Uri(dashboard, "traces/detail/" + traceId).ToString(), await row.Locator("a.ext").GetAttributeAsync("href"));
            shots.Add(await ShotAsync(page, "07-inspector-blocks"));

            output.WriteLine($"done after {clock.Elapsed.TotalSeconds:0.0} s; screenshots:");
            shots.ForEach(s => output.WriteLine("  " + s));
        }
        catch
        {
            try
            {
                output.WriteLine($"failed at {page.Url} after {clock.Elapsed.TotalSeconds:0.0} s; screenshot at the failure: " + await ShotAsync(page, "failure"));
            }
            catch (PlaywrightException e)
            {
                output.WriteLine("no screenshot at the failure: " + e.Message);
            }

            shots.ForEach(s => output.WriteLine("  " + s));
            await PrintInspectorStatusAsync(inspector);
            throw;
        }
    }

    /// <summary>"peer-1 mined 1 block(s): #3 00dee1471923" — the mine command's success message.</summary>
    [GeneratedRegex(@"peer-1 mined 1 block\(s\): #(?<height>\d+) (?<hash>[0-9a-f]{12})")]
    private static partial Regex MinedMessage();

    /// <summary>The title of the notification of a finished mine command.</summary>
    [GeneratedRegex(@"""Mine blocks"" (succeeded|failed)")]
    private static partial Regex CommandFinished();

    [GeneratedRegex(@"Trace Id: (?<id>[0-9a-f]{32})")]
    private static partial Regex TraceIdInTitle();

    [GeneratedRegex(@"/traces/detail/(?<id>[0-9a-f]{32})")]
    private static partial Regex TraceDetailPath();

    /// <summary>The resources grid's row of <paramref name="name"/> (its first cell is labelled "Project: name").</summary>
    private static ILocator ResourceRow(IPage page, string name) =>
        page.Locator("tr.resource-row", new PageLocatorOptions { Has = page.Locator($"td[col-index='1'][aria-label$=': {name}']") });

    /// <summary>The waterfall's name cells, titled "resource: span name".</summary>
    private static ILocator SpanNameCells(IPage page) => page.Locator(".tracedetails-grid-container td[col-index='1'][title*=': ']");

    /// <summary>
    /// Filters the trace list to block.produce, waits for peer-1's, opens each candidate until one's block.produce span
    /// carries <paramref name="hashPrefix"/> (on a fresh testbed there is one), and returns its trace id.
    /// </summary>
    private async Task<string> OpenBlockTraceAsync(IPage page, Uri dashboard, string hashPrefix, List<string> shots)
    {
        var deadline = DateTime.UtcNow + TelemetryPatience;
        var rejected = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            await page.GotoAsync(new Uri(dashboard, "traces").ToString());
            await page.Locator("fluent-text-input[name='traces-search'] input").FillAsync("block.produce");
            var produced = page.Locator("td[role='gridcell'][title^='Name: peer-1: block.produce']");
            try
            {
                await produced.First.WaitForAsync(new LocatorWaitForOptions { Timeout = 15_000 });
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
                continue;
            }

            var titles = await produced.EvaluateAllAsync<string[]>("cells => cells.map(c => c.getAttribute('title'))");
            var candidates = titles.Select(t => TraceIdInTitle().Match(t).Groups["id"].Value).Where(id => id.Length > 0 && !rejected.Contains(id)).ToArray();
            output.WriteLine($"trace list: {titles.Length} block.produce trace(s) of peer-1: {string.Join(", ", candidates)}");
            foreach (var candidate in candidates)
            {
                var cell = page.Locator($"td[role='gridcell'][title$='Trace Id: {candidate}']");
                if (!await cell.IsVisibleAsync())
                {
                    await page.GotoAsync(new Uri(dashboard, "traces/detail/" + candidate).ToString());
                }
                else
                {
                    var shot = await ShotAsync(page, "04-traces-block-produce");
                    if (!shots.Contains(shot))
                    {
                        shots.Add(shot);
                    }

                    // A click before the page's Blazor circuit is up is lost (the rows are prerendered): click again.
                    for (var attempt = 1; !TraceDetailPath().IsMatch(page.Url); attempt++)
                    {
                        await cell.ClickAsync();
                        try
                        {
                            await page.WaitForURLAsync(url => TraceDetailPath().IsMatch(url), new PageWaitForURLOptions { Timeout = 10_000 });
                        }
                        catch (TimeoutException) when (attempt < 3)
                        {
                        }
                    }
                }

                var opened = TraceDetailPath().Match(page.Url).Groups["id"].Value;
                if ((await OpenSpanAndReadHashAsync(page))?.StartsWith(hashPrefix, StringComparison.Ordinal) == true)
                {
                    return opened;
                }

                rejected.Add(opened);
                await page.GoBackAsync();
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no block.produce trace of peer-1 for block {hashPrefix} in the dashboard within {TelemetryPatience.TotalSeconds:0} s");
            }
        }
    }

    /// <summary>
    /// Opens peer-1's block.produce span of the open trace in the details pane and returns its block.hash. A click on the
    /// selected span closes the pane, and a click before the page's Blazor circuit is up is lost (the rows are prerendered),
    /// so it clicks only while the pane does not show the span, a few times at most.
    /// </summary>
    private static async Task<string?> OpenSpanAndReadHashAsync(IPage page)
    {
        var details = page.Locator(".span-details-layout");
        ILocator Property(string name) => details.Locator("tr", new LocatorLocatorOptions { Has = page.Locator($"span.grid-value[title='{name}']") })
            .Locator("td.valueColumn span.grid-value");
        async Task<string?> ValueAsync(string name) => await Property(name).CountAsync() == 1 ? await Property(name).GetAttributeAsync("title") : null;

        for (var attempt = 1; ; attempt++)
        {
            if (await ValueAsync("Name") == "block.produce" && await ValueAsync("testbed.peer") == "peer-1" && await ValueAsync("block.hash") is { } hash)
            {
                return hash;
            }

            if (attempt > 5)
            {
                throw new TimeoutException("the details pane of peer-1's block.produce span did not open after 5 clicks");
            }

            await page.Locator(".tracedetails-grid-container td[col-index='1'][title='peer-1: block.produce']").First.ClickAsync();
            try
            {
                await Property("block.hash").WaitForAsync(new LocatorWaitForOptions { Timeout = 5_000 });
            }
            catch (TimeoutException)
            {
                // Checked again above.
            }
        }
    }

    /// <summary>
    /// The (resource, span name) rows of the open trace once peer-1's block.produce and every receiver's block.receive and
    /// vm.replay are in it (each span is exported when it ends, the receivers' after the miner's). Rows are read with the
    /// page's span filter set to each name of interest, so the grid's virtualisation never hides one; the page is
    /// reloaded between attempts.
    /// </summary>
    private async Task<HashSet<(string Resource, string Name)>> WaitForWaterfallAsync(IPage page, Uri dashboard, string traceId)
    {
        var detail = new Uri(dashboard, "traces/detail/" + traceId).ToString();
        var deadline = DateTime.UtcNow + TelemetryPatience;
        while (true)
        {
            var rows = new HashSet<(string Resource, string Name)>();
            var filter = page.Locator("fluent-text-input[name='spans-search'] input");
            foreach (var term in new[] { "", "block.produce", "block.receive", "vm.replay" })
            {
                await filter.FillAsync(term);
                // The filter applies after a short debounce; a row missed now is read on the next attempt.
                await page.WaitForTimeoutAsync(1000);
                foreach (var title in await SpanNameCells(page).EvaluateAllAsync<string[]>("cells => cells.map(c => c.getAttribute('title'))"))
                {
                    var colon = title.IndexOf(": ", StringComparison.Ordinal);
                    rows.Add((title[..colon], title[(colon + 2)..]));
                }
            }

            await filter.FillAsync("");
            if (rows.Contains(("peer-1", "block.produce")) && PeerNames.Skip(1).All(p => rows.Contains((p, "block.receive")) && rows.Contains((p, "vm.replay"))))
            {
                // Unfiltered again (block.mine matches none of the filters) before the caller's screenshot.
                await page.Locator(".tracedetails-grid-container td[col-index='1'][title='peer-1: block.mine']").WaitForAsync();
                return rows;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"trace {traceId} lacks a receiver's block.receive or vm.replay after {TelemetryPatience.TotalSeconds:0} s: {string.Join(", ", rows.Select(r => $"{r.Resource}/{r.Name}"))}");
            }

            await Task.Delay(2000);
            await page.GotoAsync(detail);
        }
    }

    /// <summary>The dashboard's login URL with its browser token, as the aspire-dashboard resource's snapshot lists it.</summary>
    private static async Task<Uri> DashboardLoginUrlAsync(TestbedApp testbed)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            var dashboard = await testbed.App.ResourceNotifications.WaitForResourceAsync(
                "aspire-dashboard", e => e.Snapshot.Urls.Any(u => u.Url.Contains("/login?t=", StringComparison.Ordinal)), timeout.Token);
            return new Uri(dashboard.Snapshot.Urls.First(u => u.Url.Contains("/login?t=", StringComparison.Ordinal)).Url);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("the aspire-dashboard resource listed no /login?t= URL within 60 s");
        }
    }

    /// <summary>Waits until every peer is ready and connected to every other (their /status, marked as a poll: no spans).</summary>
    private static async Task WaitForMeshAsync(TestbedApp testbed)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        var last = "";
        while (true)
        {
            var meshed = true;
            foreach (var peer in PeerNames)
            {
                try
                {
                    using var request = TelemetryPolls.Mark(new HttpRequestMessage(HttpMethod.Get, new Uri(testbed.Url(peer), "status")));
                    using var response = await http.SendAsync(request);
                    response.EnsureSuccessStatusCode();
                    var status = await response.Content.ReadFromJsonAsync<JsonElement>();
                    var connected = status.GetProperty("connectedPeers").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToHashSet(StringComparer.Ordinal);
                    var ready = status.GetProperty("ready").GetBoolean();
                    last = $"{peer}: ready={ready}, connected to {string.Join(", ", connected)}";
                    meshed &= ready && PeerNames.Where(other => other != peer).All(connected.Contains);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
                {
                    last = $"{peer}: {e.Message}";
                    meshed = false;
                }

                if (!meshed)
                {
                    break;
                }
            }

            if (meshed)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the peers were not all connected to each other within 90 s ({last})");
            }

            await Task.Delay(500);
        }
    }

    /// <summary>The inspector's reading of the dashboard (its telemetry API wiring), for the failure report.</summary>
    private async Task PrintInspectorStatusAsync(Uri inspector)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            output.WriteLine("inspector /api/status: " + await http.GetStringAsync(new Uri(inspector, "api/status")));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            output.WriteLine("inspector /api/status: " + e.Message);
        }
    }

    private static async Task<string> ShotAsync(IPage page, string name)
    {
        var path = Path.Combine(Screenshots, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true, Timeout = StepTimeoutMs });
        return path;
    }
}
