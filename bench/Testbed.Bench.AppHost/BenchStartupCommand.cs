namespace Testbed.Bench.AppHost;

/// <summary>
/// <c>bench startup [--peers N] [--rounds R] [--json]</c>: the testbed's app model (tracker, N peers and chaos: N+2
/// services) from start to every resource healthy, and its teardown to the last service process gone, beside a plain
/// Aspire model of as many trivial web projects, in interleaved rounds after one warm-up of each. Exit code 0 when the
/// median start is at most 1.3x the plain model's and the median teardown under 1 s, 1 when not, 2 for unusable arguments.
/// </summary>
public static class BenchStartupCommand
{
    private const double StartRatioTarget = 1.3;
    private const double TeardownTargetSeconds = 1;
    private const string Start = "s, start to healthy";
    private const string Teardown = "s, teardown to gone";
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var peers = new Option<int>("--peers") { Description = $"Peers in the testbed model (1..16, default {TestbedSettings.DefaultPeers}); with the tracker and chaos, N+2 services", DefaultValueFactory = _ => TestbedSettings.DefaultPeers };
        var shared = new BenchOptions();
        shared.Rounds.Aliases.Add("--runs");
        var command = new Command("startup", "Start to all healthy and teardown of the testbed model (tracker, peers, chaos) beside a plain Aspire model of as many trivial projects, interleaved rounds")
        {
            peers,
            shared.Rounds,
            shared.Json,
        };
        shared.SetAction(
            command,
            parse => (Peers: parse.GetValue(peers), Rounds: parse.GetValue(shared.Rounds)),
            run => run.Peers is < 1 or > 16 ? "error: --peers must be 1..16" : null,
            (run, ct) => RunAsync(run.Peers, run.Rounds, ct),
            Print,
            r => r.Met);
        return command;
    }

    private static async Task<StartupResult> RunAsync(int peers, int rounds, CancellationToken cancellationToken)
    {
        var services = peers + 2;
        var testbedSide = $"testbed: tracker, {peers} peer{(peers == 1 ? "" : "s")}, chaos";
        var plainSide = $"plain: {services} trivial web projects";
        Func<IDistributedApplicationBuilder, TestbedModel?> testbed = builder =>
        {
            var model = new TestbedModel(builder, new TestbedSettings(peers, null));
            var tracker = model.AddTracker();
            model.AddChaos(tracker, model.AddPeers(tracker));
            return model;
        };
        Func<IDistributedApplicationBuilder, TestbedModel?> plain = builder =>
        {
            for (var s = 1; s <= services; s++)
            {
                builder.AddProject<Projects.Testbed_Bench_TrivialService>($"trivial-{s}").WithHttpEndpoint().WithHttpHealthCheck("/health");
            }

            return null;
        };

        // One of each warms the file cache and the JIT; not counted.
        await MeasureAsync(testbed, cancellationToken);
        await MeasureAsync(plain, cancellationToken);
        var series = await Interleaved.RunAsync(rounds,
        [
            new Side(testbedSide, [Start, Teardown], token => MeasureAsync(testbed, token)),
            new Side(plainSide, [Start, Teardown], token => MeasureAsync(plain, token)),
        ], cancellationToken);

        var startRatio = Ratio.Of(series.Find(testbedSide, Start), series.Find(plainSide, Start));
        var teardown = series.Find(testbedSide, Teardown);
        return new StartupResult(
            Bench: "startup",
            Peers: peers,
            Services: services,
            Rounds: rounds,
            Order: "testbed then plain on even rounds, plain then testbed on odd ones, after one warm-up of each",
            Series: series,
            Ratios: [startRatio, Ratio.Of(teardown, series.Find(plainSide, Teardown))],
            Limit: new Limit($"a plain Aspire model of {services} trivial web projects (each with a /health check), start to all healthy, same run", series.Find(plainSide, Start)),
            StartRatioTarget: StartRatioTarget,
            TeardownTargetSeconds: TeardownTargetSeconds,
            Met: startRatio.Value <= StartRatioTarget && teardown.Median < TeardownTargetSeconds,
            ProcessorCount: Environment.ProcessorCount,
            LoadAverage: LoadAverage.Read());
    }

    /// <summary>Starts the model <paramref name="define"/> builds until every resource is healthy, then stops it until its last service process is gone: [start s, teardown s].</summary>
    private static async Task<double[]> MeasureAsync(Func<IDistributedApplicationBuilder, TestbedModel?> define, CancellationToken cancellationToken)
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

        return [start, clock.Elapsed.TotalSeconds];
    }

    private static void Print(StartupResult r)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine($"bench startup: {r.Services} services a model; {r.Rounds} rounds, interleaved ({r.Order})");
        BenchFigures.PrintFigures(r.Series.OrderBy(s => s.Unit == Teardown), [], r.Ratios, [r.Limit]);
        var teardown = r.Series.Single(s => s.Side == r.Ratios[1].Numerator && s.Unit == Teardown).Median;
        Console.WriteLine(string.Create(c, $"target: start <= {r.StartRatioTarget}x the plain model: x{r.Ratios[0].Value:F2}, {BenchFigures.Verdict(r.Ratios[0].Value <= r.StartRatioTarget)}; teardown < {r.TeardownTargetSeconds} s: median {Figure.Format(teardown)} s, {BenchFigures.Verdict(teardown < r.TeardownTargetSeconds)}"));
        BenchFigures.PrintClosing(r.LoadAverage, r.ProcessorCount);
    }

    /// <summary>Figures of one <c>bench startup</c> run: the text prints these, --json writes them.</summary>
    private sealed record StartupResult(
        string Bench,
        int Peers,
        int Services,
        int Rounds,
        string Order,
        IReadOnlyList<Series> Series,
        IReadOnlyList<Ratio> Ratios,
        Limit Limit,
        double StartRatioTarget,
        double TeardownTargetSeconds,
        bool Met,
        int ProcessorCount,
        string LoadAverage);
}
