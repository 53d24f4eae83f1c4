using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Testbed.AppHost.Headless;
using Testbed.AppHost.Model;
using Testbed.Bench.Measurement;

namespace Testbed.Bench.AppHost;

/// <summary>
/// <c>bench startup [--peers N] [--runs R] [--json]</c>: the testbed's app model (tracker, N peers, chaos) from start to
/// every resource healthy, and its teardown, beside a plain Aspire model of as many trivial web projects, runs alternating.
/// </summary>
public static class BenchStartupCommand
{
    private const double StartRatioTarget = 1.3;
    private const double TeardownTargetSeconds = 1;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    /// <summary>One start and stop of one model.</summary>
    private sealed record Sample(double StartSeconds, double TeardownSeconds);

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var peers = new Option<int>("--peers") { Description = "Peers in the testbed model (1..16)", DefaultValueFactory = _ => TestbedSettings.DefaultPeers };
        var runs = new Option<int>("--runs") { Description = "Measured runs of each model, alternating, after one warm-up of each (1..20)", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };
        var command = new Command("startup", "Start to all healthy and teardown of the testbed model beside a plain Aspire model of as many trivial projects");
        command.Options.Add(peers);
        command.Options.Add(runs);
        command.Options.Add(json);
        command.SetAction(async (parse, ct) =>
        {
            int n = parse.GetValue(peers), count = parse.GetValue(runs);
            if (n is < 1 or > 16 || count is < 1 or > 20)
            {
                await Console.Error.WriteLineAsync("error: --peers must be 1..16 and --runs 1..20");
                return 2;
            }

            return await RunAsync(n, count, parse.GetValue(json), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(int peers, int runs, bool json, CancellationToken cancellationToken)
    {
        var services = peers + 2;
        var testbed = new List<Sample>();
        var plain = new List<Sample>();
        for (var i = 0; i <= runs; i++)
        {
            // Run 0 warms the file cache and the JIT for both; it is not counted.
            var t = await MeasureAsync(builder =>
            {
                var model = new TestbedModel(builder, new TestbedSettings(peers, null));
                var tracker = model.AddTracker();
                model.AddChaos(tracker, model.AddPeers(tracker));
                return model;
            }, cancellationToken);
            var p = await MeasureAsync(builder =>
            {
                for (var s = 1; s <= services; s++)
                {
                    builder.AddProject<Projects.Testbed_Bench_TrivialService>($"trivial-{s}")
                        .WithHttpEndpoint().WithHttpHealthCheck("/health");
                }

                return null;
            }, cancellationToken);
            if (i > 0)
            {
                testbed.Add(t);
                plain.Add(p);
            }

            if (!json)
            {
                Console.WriteLine($"run {i}{(i == 0 ? " (warm-up)" : "")}: testbed {t.StartSeconds:0.00} s / {t.TeardownSeconds:0.00} s, plain {p.StartSeconds:0.00} s / {p.TeardownSeconds:0.00} s");
            }
        }

        var ratio = Median(testbed, s => s.StartSeconds) / Median(plain, s => s.StartSeconds);
        var teardown = Median(testbed, s => s.TeardownSeconds);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                services,
                runs,
                testbed = Summary(testbed),
                plain = Summary(plain),
                startRatio = ratio,
                startRatioTarget = StartRatioTarget,
                teardownTargetSeconds = TeardownTargetSeconds,
            }));
        }
        else
        {
            Console.WriteLine($"{services} services, {runs} runs each, median (min..max):");
            Console.WriteLine($"  testbed start {Text(testbed, s => s.StartSeconds)}, teardown {Text(testbed, s => s.TeardownSeconds)}");
            Console.WriteLine($"  plain   start {Text(plain, s => s.StartSeconds)}, teardown {Text(plain, s => s.TeardownSeconds)}");
            Console.WriteLine($"  start ratio {ratio.ToString("0.00", CultureInfo.InvariantCulture)}x (target <= {StartRatioTarget}x); teardown {teardown:0.00} s (target < {TeardownTargetSeconds} s)");
        }

        return ratio <= StartRatioTarget && teardown < TeardownTargetSeconds ? 0 : 1;
    }

    private static async Task<Sample> MeasureAsync(Func<IDistributedApplicationBuilder, TestbedModel?> define, CancellationToken cancellationToken)
    {
        var builder = HeadlessTestbed.CreateBuilder();
        var model = define(builder);
        var clock = Stopwatch.StartNew();
        var testbed = await HeadlessTestbed.StartAsync(builder, model, Patience, cancellationToken);
        var start = clock.Elapsed.TotalSeconds;
        var processes = await testbed.ProcessIdsAsync(cancellationToken);
        clock.Restart();
        await testbed.DisposeAsync();
        // Teardown ends when the last service process is gone, not when Aspire's stop returns.
        while (processes.Any(pid => Directory.Exists($"/proc/{pid}")) && clock.Elapsed < Patience)
        {
            await Task.Delay(10, cancellationToken);
        }

        return new Sample(start, clock.Elapsed.TotalSeconds);
    }

    private static double Median(List<Sample> samples, Func<Sample, double> value) => BenchFigures.Median(samples.Select(value));

    private static object Summary(List<Sample> samples) => new
    {
        startMedianSeconds = Median(samples, s => s.StartSeconds),
        startMinSeconds = samples.Min(s => s.StartSeconds),
        startMaxSeconds = samples.Max(s => s.StartSeconds),
        teardownMedianSeconds = Median(samples, s => s.TeardownSeconds),
        teardownMaxSeconds = samples.Max(s => s.TeardownSeconds),
    };

    private static string Text(List<Sample> samples, Func<Sample, double> value) =>
        string.Create(CultureInfo.InvariantCulture, $"{Median(samples, value):0.00} s ({samples.Min(value):0.00}..{samples.Max(value):0.00})");
}
