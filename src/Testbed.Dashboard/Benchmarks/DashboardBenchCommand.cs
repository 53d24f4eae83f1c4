using System.CommandLine;

namespace Testbed.Dashboard.Benchmarks;

/// <summary>The <c>bench dashboard [--json]</c> command, for the AppHost's or the CLI's <c>bench</c> verb.</summary>
public static class DashboardBenchCommand
{
    /// <summary>Creates the command; <paramref name="browser"/> times the UI in a browser when given.</summary>
    public static Command Create(Func<Uri, CancellationToken, Task<IReadOnlyList<BrowserRenderResult>>>? browser = null)
    {
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object" };
        var spans = new Option<int>("--spans") { Description = "Spans sent over OTLP/gRPC for the ingest figure", DefaultValueFactory = _ => 300_000 };
        var command = new Command("dashboard", "Measure OTLP/gRPC ingest (target >= 50,000 spans/s) and the trace list with 10,000 traces (target < 200 ms)");
        command.Options.Add(json);
        command.Options.Add(spans);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var count = parse.GetValue(spans);
            if (count is < 10_000 or > 50_000_000)
            {
                await Console.Error.WriteLineAsync($"error: --spans must be between 10000 and 50000000, not {count}.");
                return 2;
            }

            var asJson = parse.GetValue(json);
            var result = await DashboardBenchmarks.RunAsync(new DashboardBenchmarkOptions(Spans: count), browser, asJson ? null : Console.Out, cancellationToken);
            DashboardBenchmarks.Print(result, asJson, Console.Out);
            return 0;
        });
        return command;
    }
}
