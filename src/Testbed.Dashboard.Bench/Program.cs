using System.CommandLine;
using Microsoft.Playwright;
using Testbed.Dashboard.Benchmarks;

// The dashboard benchmarks as a console: `dashboard` is the root command, the browser timing uses Debian's chromium.
var command = DashboardBenchCommand.Create(ChromiumTraceList.TimeAsync);
var root = new RootCommand(command.Description ?? "");
foreach (var option in command.Options)
{
    root.Options.Add(option);
}

root.Action = command.Action;
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        await Console.Error.WriteLineAsync($"error: {error.Message}");
    }

    return 2;
}

return await parse.InvokeAsync();

/// <summary>Times the trace list page in headless Chromium: navigation to the list until its rows are in the DOM, as the UI measures it.</summary>
internal static class ChromiumTraceList
{
    private const string Chromium = "/usr/bin/chromium";

    public static async Task<IReadOnlyList<BrowserRenderResult>> TimeAsync(Uri ui, CancellationToken cancellationToken)
    {
        if (!File.Exists(Chromium))
        {
            throw new FileNotFoundException($"{Chromium} is missing (apt-get install -y chromium).");
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        var results = new List<BrowserRenderResult>();
        foreach (var rows in new[] { 500, 10_000 })
        {
            var timings = new List<double>();
            for (var run = 0; run < 7; run++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await page.GotoAsync($"{ui.ToString().TrimEnd('/')}/#/traces?limit={rows}&run={run}");
                await page.WaitForFunctionAsync($"() => window.dashboard.traceListRows >= {Math.Min(rows, 10_000)} && window.dashboard.traceListRenderMs !== null");
                var ms = await page.EvaluateAsync<double>("window.dashboard.traceListRenderMs");
                if (run > 0)
                {
                    timings.Add(ms);
                }

                await page.EvaluateAsync("() => { window.dashboard.traceListRenderMs = null; window.dashboard.traceListRows = 0; }");
            }

            timings.Sort();
            results.Add(new BrowserRenderResult(rows, timings[timings.Count / 2], timings[^1]));
        }

        return results;
    }
}
