using Microsoft.Playwright;
using OpenTelemetry.Exporter;
using Xunit.Abstractions;

namespace Testbed.Dashboard.Tests;

/// <summary>
/// Debian's headless Chromium, driven by Playwright (no browser download), against the dashboard fed over real OTLP by
/// synthetic peers: what real peers do not show on demand (a divergent state root, a slow download, a chaos fault
/// overlapping a block, a reorganisation). The running testbed with real peers is <see cref="RealTestbedBrowserTests"/>.
/// </summary>
public sealed class BrowserTests(ITestOutputHelper output)
{
    internal const string Chromium = "/usr/bin/chromium";
    private static readonly string[] ChromiumArgs =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots", "synthetic");

    [Fact]
    public async Task The_ui_flags_a_divergent_root_a_slow_download_a_fault_and_a_reorg_from_synthetic_peers()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium (apt-get install -y chromium chromium-driver).");
        Directory.CreateDirectory(Screenshots);

        await using var dashboard = await TestDashboard.StartAsync();

        string blockTrace;
        var t0 = DateTime.UtcNow.AddSeconds(-20);
        using (var peers = new SyntheticPeers(dashboard.Host.OtlpGrpcUrl, OtlpExportProtocol.Grpc, 4))
        {
            peers.EmitBlock(1, "00001a", t0, "aa" + new string('1', 62), miner: 0);
            blockTrace = peers.EmitBlock(2, "00002b", t0.AddSeconds(3), "aa" + new string('2', 62), miner: 1, divergent: 3, slow: 2);
            peers.EmitFault("delay", "peer-3", t0.AddSeconds(3).AddMilliseconds(50), 300);
            peers.EmitBlock(3, "00003c", t0.AddSeconds(6), "aa" + new string('3', 62), miner: 2);
            peers.EmitReorg(3, 1, "00002b", "00002c", t0.AddSeconds(7));
            peers.Flush();
        }

        await SyntheticMetrics.SendAsync(dashboard.Host.OtlpGrpcUrl, 4, 8);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(LaunchOptions());
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        page.SetDefaultTimeout(60_000);
        var ui = dashboard.Host.UiUrl.ToString().TrimEnd('/');

        // Trace list, then the block's waterfall with spans of at least three peers.
        await page.GotoAsync(ui + "/#/traces");
        await page.WaitForSelectorAsync($"#traces tr[data-trace='{blockTrace}']");
        output.WriteLine($"trace list rendered in {await page.EvaluateAsync<double>("window.dashboard.traceListRenderMs"):0.0} ms (informational)");
        await Shot(page, "01-traces");
        await page.ClickAsync($"#traces tr[data-trace='{blockTrace}'] td:nth-child(3)");
        await page.WaitForSelectorAsync("#waterfall .wf-row[data-span]");
        var peerNames = (await page.Locator("#waterfall .wf-row[data-span] .wf-name .muted").AllInnerTextsAsync()).Distinct().ToArray();
        Assert.True(peerNames.Length >= 3, "the waterfall shows spans of " + string.Join(", ", peerNames));
        Assert.Equal(1, await page.Locator("#waterfall .fault-row").CountAsync());
        await page.Locator("#waterfall .wf-row[data-span]", new PageLocatorOptions { HasText = "torrent.download" }).First.ClickAsync();
        await page.WaitForSelectorAsync("#span-detail:has-text('torrent.bytes')");
        await Shot(page, "02-waterfall");

        // The peer comparison of the same block: every peer side by side, the divergent root and the slow download flagged.
        await page.ClickAsync("#open-compare");
        await page.WaitForSelectorAsync(".cmp-block");
        Assert.Equal(4, await page.Locator(".cmp-block .cmp-grid .lane").CountAsync());
        Assert.Equal(1, await page.Locator(".cmp-block .diverged").CountAsync());
        Assert.True(await page.Locator(".cmp-block .stage.outlier").CountAsync() >= 1);
        Assert.True(await page.Locator(".cmp-block .fault-band").CountAsync() >= 1);
        await Shot(page, "03-peer-comparison");

        // Chain view with the reorg marked, then logs and metrics as they stand.
        await page.GotoAsync(ui + "/#/chain");
        await page.WaitForSelectorAsync("#tips tbody tr");
        Assert.Equal(1, await page.Locator("#reorgs tbody tr td a").CountAsync());
        Assert.Equal(4, await page.Locator("#tips tbody tr td:nth-child(3):has-text('00003c')").CountAsync());
        await Shot(page, "04-chain");
        await page.GotoAsync(ui + "/#/metrics");
        await page.WaitForSelectorAsync(".chart[data-chart='testbed.miner.hash_rate'] svg path");
        Assert.Equal(4, await page.Locator(".chart[data-chart='testbed.miner.hash_rate'] .legend span").CountAsync());
        await Shot(page, "05-metrics");
        output.WriteLine("screenshots: " + Screenshots);
    }

    /// <summary>Debian's Chromium, headless, without Playwright's browser download.</summary>
    internal static BrowserTypeLaunchOptions LaunchOptions() => new()
    {
        ExecutablePath = Chromium,
        Headless = true,
        Args = ChromiumArgs,
        Timeout = 120_000,
    };

    private static async Task Shot(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
}
