using System.CommandLine;
using Testbed.AppHost.Model;
using Testbed.Chaos.Cli;
using Testbed.Chaos.Checking;

namespace Testbed.AppHost.Headless;

/// <summary>
/// <c>scenario run NAME [--file F] [--report R]</c>: starts the testbed the scenario asks for (tracker, peers, chaos) in
/// Aspire without a dashboard, has the chaos service run the scenario, prints each step and invariant. Exit code 0 only
/// when everything held, 1 when a check failed, 2 for unusable arguments or input.
/// </summary>
public static class ScenarioRunCommand
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var file = ScenarioCommands.FileOption();
        var report = new Option<string?>("--report") { Description = "Write the run's report JSON to this file, and its history (JSON lines) beside it: report.json gives report.history.jsonl" };
        var name = new Argument<string>("name") { Description = "Scenario name (see `scenario list`)" };
        var run = new Command("run", "Run one scenario headless against a fresh testbed; exit code 0 only when every expectation held");
        run.Arguments.Add(name);
        run.Options.Add(file);
        run.Options.Add(report);
        run.SetAction((parse, ct) => RunAsync(parse.GetValue(name)!, parse.GetValue(file), parse.GetValue(report), ct));
        return run;
    }

    private static async Task<int> RunAsync(string name, string? file, string? reportPath, CancellationToken cancellationToken)
    {
        if (ScenarioCommands.Load(file) is not { } scenarios)
        {
            return 2;
        }

        if (scenarios.Scenarios.FirstOrDefault(s => s.Name == name) is not { } scenario)
        {
            await Console.Error.WriteLineAsync($"error: no scenario named '{name}'; known: {string.Join(", ", scenarios.Scenarios.Select(s => s.Name))}");
            return 2;
        }

        // The report's place is checked before a run of minutes, not after it.
        if (reportPath is not null && ReportProblem(reportPath) is { } problem)
        {
            await Console.Error.WriteLineAsync($"error: --report {reportPath}: {problem}");
            return 2;
        }

        Console.WriteLine($"Starting tracker, {scenario.Topology.Peers} peers and chaos (difficulty {scenario.Topology.DifficultyBits} bits) for {scenario.Name}...");
        var builder = HeadlessTestbed.CreateBuilder("--scenarios-file", ScenarioCommands.ResolveFile(file));
        var model = new TestbedModel(builder, TestbedSettings.For(scenario.Topology));
        var tracker = model.AddTracker();
        var chaos = model.AddChaos(tracker, model.AddPeers(tracker));
        await using var testbed = await HeadlessTestbed.StartAsync(builder, model, StartTimeout, cancellationToken);

        var run = await model.Chaos(testbed.Url(chaos)).RunScenarioAsync(scenario.Name, Print, cancellationToken);
        foreach (var invariant in run.Report?.Invariants ?? [])
        {
            Console.WriteLine($"{(invariant.Ok ? "held    " : "VIOLATED")} {invariant.Name}: {invariant.Detail}");
        }

        if (reportPath is not null && run.Report is { } report)
        {
            await File.WriteAllTextAsync(reportPath, report.ToJson(), cancellationToken);
            Console.WriteLine($"Report written to {Path.GetFullPath(reportPath)}");
            var historyPath = HistoryPathFor(reportPath);
            await model.Chaos(testbed.Url(chaos)).DownloadHistoryAsync(run.Id, historyPath, cancellationToken);
            Console.WriteLine($"History written to {historyPath} (check it again: scenario check {historyPath})");
        }
        else if (run.Report?.HistoryFile is { } history)
        {
            Console.WriteLine($"History: {history} (check it again: scenario check {history})");
        }

        var passed = run.Status == "passed";
        var why = run.Error ?? run.Report?.Error;
        Console.WriteLine(passed
            ? $"{scenario.Name} passed in {run.Report?.Duration.TotalSeconds:0.0} s"
            : $"{scenario.Name} FAILED ({run.Status}){(why is null ? "" : ": " + why)}");
        return passed ? 0 : 1;
    }

    /// <summary>The history file beside a report: report.json gives report.history.jsonl.</summary>
    internal static string HistoryPathFor(string reportPath) => Path.ChangeExtension(Path.GetFullPath(reportPath), ".history.jsonl");

    private static void Print(StepRecord step) =>
        Console.WriteLine($"step {step.Index} {step.Kind} [{string.Join(",", step.Targets)}] {(step.Ok ? "ok" : "FAILED")}: {step.Detail}");

    private static string? ReportProblem(string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            return "is a directory";
        }

        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            return $"directory {directory} does not exist";
        }

        try
        {
            using var probe = new FileStream(Path.Combine(directory, $".testbed-report-probe-{Guid.NewGuid():n}"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot write in {directory}: {e.Message}";
        }
    }
}
