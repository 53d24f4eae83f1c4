using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Testbed.AppHost.AppModel;
using Testbed.AppHost.Orchestration;

namespace Testbed.AppHost.Cli;

/// <summary><c>bench startup</c>: launch to all healthy, and ordered teardown, against the 5 s and 1 s targets.</summary>
internal static class BenchStartupCommand
{
    private const double StartTargetSeconds = 5;
    private const double TeardownTargetSeconds = 1;

    /// <summary>One measured cold start and stop.</summary>
    private sealed record Run(double StartSeconds, double TeardownSeconds, bool AllHealthy);

    public static Command Create(
        Option<int?> peers, Option<bool> noBuild, Func<ParseResult, AppHostOptions> readOptions, Action<DistributedApplicationBuilder> defineModel)
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };
        var runs = new Option<int>("--runs") { Description = "Measured runs after one unmeasured warm-up run (1..20)", DefaultValueFactory = _ => 3 };
        var standIns = new Option<int>("--stand-ins")
        {
            Description = "Extra tracker replicas (standin-1..N, waiting for the tracker) standing in for services whose projects do not exist yet (0..16)",
            DefaultValueFactory = _ => 0,
        };
        var command = new Command("startup", "Cold start of every resource to healthy (after build), then ordered teardown; ratio to 5 s and 1 s");
        command.Options.Add(json);
        command.Options.Add(runs);
        command.Options.Add(standIns);
        command.Options.Add(peers);
        command.Options.Add(noBuild);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var count = parse.GetValue(runs);
            if (count is < 1 or > 20)
            {
                await Console.Error.WriteLineAsync($"error: --runs must be between 1 and 20, not {count}.");
                return 2;
            }

            var extra = parse.GetValue(standIns);
            if (extra is < 0 or > 16)
            {
                await Console.Error.WriteLineAsync($"error: --stand-ins must be between 0 and 16, not {extra}.");
                return 2;
            }

            var options = readOptions(parse);
            // The bench must not collide with a running AppHost's control API.
            options.ControlApiPort = 0;
            return await RunAsync(options, builder => DefineWithStandIns(builder, defineModel, extra), count, parse.GetValue(json), cancellationToken);
        });
        return command;
    }

    /// <summary>The model, plus <paramref name="standIns"/> tracker replicas that wait for the first resource, as the peers will.</summary>
    private static void DefineWithStandIns(DistributedApplicationBuilder builder, Action<DistributedApplicationBuilder> defineModel, int standIns)
    {
        defineModel(builder);
        if (standIns == 0)
        {
            return;
        }

        var standIn = builder.AddProject("standin", "../src/Testbed.Tracker")
            .WithEndpoint("udp", "udp", "Tracker__Udp")
            .WithReplicas(standIns)
            .WithHttpHealthCheck();
        if (builder.Resources.FirstOrDefault(resource => resource.Name == "tracker") is { } tracker)
        {
            standIn.WaitFor(new ProjectResourceBuilder(tracker)).WithReference(tracker);
        }
    }

    private static async Task<int> RunAsync(
        AppHostOptions options, Action<DistributedApplicationBuilder> defineModel, int count, bool json, CancellationToken cancellationToken)
    {
        var log = json ? TextWriter.Null : Console.Out;
        // Warm-up: builds the projects (when building is on) and fills the disk cache; the targets are "after build".
        await log.WriteLineAsync(options.Build ? "warm-up run (builds the services; not measured)..." : "warm-up run (not measured)...");
        var warmUp = await MeasureAsync(options, defineModel, cancellationToken);
        options.Build = false;

        var measured = new List<Run>();
        string[] names = [];
        for (var index = 0; index < count; index++)
        {
            var run = await MeasureAsync(options, defineModel, cancellationToken);
            names = run.Names;
            measured.Add(run.Run);
            await log.WriteLineAsync($"run {index + 1}: start {run.Run.StartSeconds:0.000} s, teardown {run.Run.TeardownSeconds:0.000} s{(run.Run.AllHealthy ? "" : " (NOT all healthy)")}");
        }

        var start = Median(measured.Select(run => run.StartSeconds));
        var teardown = Median(measured.Select(run => run.TeardownSeconds));
        var allHealthy = warmUp.Run.AllHealthy && measured.TrueForAll(run => run.AllHealthy);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                benchmark = "apphost.startup",
                resources = names,
                processorCount = Environment.ProcessorCount,
                runs = measured.Select(run => new { startSeconds = run.StartSeconds, teardownSeconds = run.TeardownSeconds, allHealthy = run.AllHealthy }),
                startSeconds = start,
                teardownSeconds = teardown,
                startTargetSeconds = StartTargetSeconds,
                teardownTargetSeconds = TeardownTargetSeconds,
                startRatio = start / StartTargetSeconds,
                teardownRatio = teardown / TeardownTargetSeconds,
                allHealthy,
            }));
        }
        else
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumn("figure").AddColumn("median").AddColumn("target").AddColumn("ratio (<= 1 meets it)");
            table.AddRow("start to all healthy", Seconds(start), Seconds(StartTargetSeconds), Ratio(start / StartTargetSeconds));
            table.AddRow("ordered teardown", Seconds(teardown), Seconds(TeardownTargetSeconds), Ratio(teardown / TeardownTargetSeconds));
            AnsiConsole.MarkupLine($"Resources ({names.Length}): {Markup.Escape(string.Join(", ", names))}; {Environment.ProcessorCount} cores; {count} measured runs.");
            AnsiConsole.Write(table);
            if (!allHealthy)
            {
                AnsiConsole.MarkupLine("[red]Some resources did not become healthy; the figures do not count.[/]");
            }
        }

        return allHealthy ? 0 : 1;
    }

    private static async Task<(Run Run, string[] Names)> MeasureAsync(
        AppHostOptions options, Action<DistributedApplicationBuilder> defineModel, CancellationToken cancellationToken)
    {
        var builder = DistributedApplicationBuilder.Create(options);
        defineModel(builder);
        await using var app = builder.Build();
        var clock = Stopwatch.StartNew();
        var snapshots = await app.StartAsync(cancellationToken);
        var start = clock.Elapsed.TotalSeconds;
        var allHealthy = snapshots.All(snapshot => snapshot.State == ResourceState.Running);
        if (!allHealthy)
        {
            foreach (var failed in snapshots.Where(snapshot => snapshot.State != ResourceState.Running))
            {
                await Console.Error.WriteLineAsync($"{failed.Name} {failed.State}: {failed.Message}{Environment.NewLine}{app.GetInstance(failed.Name).Console.TailText(10)}");
            }
        }

        clock.Restart();
        await app.StopAsync();
        return (new Run(start, clock.Elapsed.TotalSeconds, allHealthy), app.Instances.Select(instance => instance.Name).ToArray());
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Seconds(double value) => value.ToString("0.000 s", CultureInfo.InvariantCulture);

    private static string Ratio(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
