using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Testbed.Chaos.Checking;
using Testbed.Chaos.Execution;
using Testbed.Chaos.Proxy;
using Testbed.Chaos.Scenarios;

namespace Testbed.Chaos.Cli;

/// <summary>A testbed started for one scenario run (by the AppHost): its control API, stopped on dispose.</summary>
public interface IScenarioTestbed : IAsyncDisposable
{
    /// <summary>Base URL of the control API.</summary>
    Uri ControlApiUrl { get; }
}

/// <summary>
/// <c>scenario list</c> and <c>scenario run NAME [--file F] [--report report.json]</c>: headless runs with a live step table,
/// exit code 0 only when every step, expectation and invariant held (1 otherwise, 2 for an unusable file or name).
/// The host supplies how to start a testbed for a topology (the AppHost starts its own app model).
/// </summary>
public static class ScenarioCommands
{
    /// <summary>The <c>scenario</c> command group.</summary>
    /// <param name="startTestbed">Starts tracker and peers for the topology, with peers bound to the plan's addresses.</param>
    public static Command Create(Func<Topology, LoopbackPlan, CancellationToken, Task<IScenarioTestbed>> startTestbed)
    {
        var file = new Option<string?>("--file") { Description = "Scenarios file (default: scenarios.yaml in the current directory or above)" };
        var report = new Option<string?>("--report") { Description = "Write the run's report JSON to this file" };
        var name = new Argument<string>("name") { Description = "Scenario name (see `scenario list`)" };

        var list = new Command("list", "List the scenarios of the scenarios file");
        list.Options.Add(file);
        list.SetAction((parse, _) => Task.FromResult(List(parse.GetValue(file))));

        var run = new Command("run", "Run one scenario headless against a fresh testbed; exit code 0 only when every expectation held");
        run.Arguments.Add(name);
        run.Options.Add(file);
        run.Options.Add(report);
        run.SetAction((parse, ct) => RunAsync(parse.GetValue(name)!, parse.GetValue(file), parse.GetValue(report), startTestbed, ct));

        var scenario = new Command("scenario", "Chaos scenarios from scenarios.yaml");
        scenario.Subcommands.Add(list);
        scenario.Subcommands.Add(run);
        return scenario;
    }

    /// <summary>The scenarios file: the given one, else scenarios.yaml in the current directory or the nearest above.</summary>
    public static string ResolveFile(string? file)
    {
        if (!string.IsNullOrWhiteSpace(file))
        {
            return Path.GetFullPath(file);
        }

        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scenarios.yaml");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return Path.GetFullPath("scenarios.yaml");
    }

    private static int List(string? file)
    {
        if (Load(file) is not { } scenarios)
        {
            return 2;
        }

        var table = new Table().AddColumns("scenario", "peers", "difficulty", "steps", "description");
        foreach (var s in scenarios.Scenarios)
        {
            table.AddRow(Markup.Escape(s.Name), s.Topology.Peers.ToString(CultureInfo.InvariantCulture), s.Topology.DifficultyBits.ToString(CultureInfo.InvariantCulture),
                s.Steps.Count.ToString(CultureInfo.InvariantCulture), Markup.Escape(s.Description));
        }

        AnsiConsole.Write(table);
        return 0;
    }

    private static async Task<int> RunAsync(string name, string? file, string? reportPath, Func<Topology, LoopbackPlan, CancellationToken, Task<IScenarioTestbed>> startTestbed, CancellationToken cancellationToken)
    {
        if (Load(file) is not { } scenarios)
        {
            return 2;
        }

        if (scenarios.Scenarios.FirstOrDefault(s => s.Name == name) is not { } scenario)
        {
            await Console.Error.WriteLineAsync($"error: no scenario named '{name}'; known: {string.Join(", ", scenarios.Scenarios.Select(s => s.Name))}");
            return 2;
        }

        var plan = LoopbackPlan.CreateRandom();
        AnsiConsole.MarkupLine($"[grey]Starting tracker and {scenario.Topology.Peers} peers (difficulty {scenario.Topology.DifficultyBits} bits) for[/] [bold]{Markup.Escape(scenario.Name)}[/]...");
        await using var testbed = await startTestbed(scenario.Topology, plan, cancellationToken);
        using var control = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = testbed.ControlApiUrl, Timeout = TimeSpan.FromMinutes(2) };
        using var peers = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromMinutes(3) };
        await using var proxy = new FaultProxy(new LinkTable());
        var executor = new ScenarioExecutor(new ScenarioEnvironment(new ControlApiClient(control), new PeerApiClient(peers), proxy, plan));

        var table = new Table().AddColumns("#", "step", "targets", "result", "detail");
        var rows = new Dictionary<int, int>();
        RunReport? report = null;
        void Started(ScenarioStep step)
        {
            lock (table)
            {
                table.AddRow(step.Index.ToString(CultureInfo.InvariantCulture), step.Kind, Markup.Escape(string.Join(",", step.Targets)), "[yellow]running[/]", "");
                rows[step.Index] = table.Rows.Count - 1;
            }
        }

        void Finished(StepRecord step)
        {
            lock (table)
            {
                if (rows.TryGetValue(step.Index, out var row))
                {
                    table.UpdateCell(row, 3, step.Ok ? "[green]ok[/]" : "[red]FAILED[/]");
                    table.UpdateCell(row, 4, Markup.Escape(Shorten(step.Detail)));
                }
            }

            if (!AnsiConsole.Profile.Capabilities.Interactive)
            {
                Console.WriteLine($"step {step.Index} {step.Kind} [{string.Join(",", step.Targets)}] {(step.Ok ? "ok" : "FAILED")}: {step.Detail}");
            }
        }

        executor.StepStarted += Started;
        executor.StepFinished += Finished;
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Live(table).StartAsync(async context =>
            {
                var running = executor.RunAsync(scenario, cancellationToken);
                while (!running.IsCompleted)
                {
                    lock (table)
                    {
                        context.Refresh();
                    }

                    await Task.WhenAny(running, Task.Delay(250, cancellationToken));
                }

                report = await running;
                context.Refresh();
            });
        }
        else
        {
            report = await executor.RunAsync(scenario, cancellationToken);
        }

        foreach (var invariant in report!.Invariants)
        {
            AnsiConsole.MarkupLine($"{(invariant.Ok ? "[green]held[/]    " : "[red]VIOLATED[/]")} {invariant.Name}: {Markup.Escape(invariant.Detail)}");
        }

        if (reportPath is not null)
        {
            await File.WriteAllTextAsync(reportPath, report.ToJson(), cancellationToken);
            AnsiConsole.MarkupLine($"[grey]Report written to {Markup.Escape(Path.GetFullPath(reportPath))}[/]");
        }

        AnsiConsole.MarkupLine(report.Passed
            ? $"[green]{Markup.Escape(scenario.Name)} passed[/] in {report.Duration.TotalSeconds:0.0} s"
            : $"[red]{Markup.Escape(scenario.Name)} FAILED[/] in {report.Duration.TotalSeconds:0.0} s{(report.Error is null ? "" : ": " + Markup.Escape(report.Error))}");
        return report.Passed ? 0 : 1;
    }

    private static ScenarioFile? Load(string? file)
    {
        var path = ResolveFile(file);
        try
        {
            return ScenarioParser.Load(path);
        }
        catch (Exception e) when (e is ScenarioParseException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return null;
        }
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..117] + "...";
}
