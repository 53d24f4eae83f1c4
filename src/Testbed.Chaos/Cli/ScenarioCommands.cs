using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Testbed.Chaos.Scenarios;

namespace Testbed.Chaos.Cli;

/// <summary>
/// <c>scenario list [--file F]</c>, <c>scenario check HISTORY.jsonl</c> (the checker again on a saved history), and what
/// every scenario verb shares: the scenarios file and how it is loaded. The AppHost adds <c>scenario run</c>, which needs a
/// testbed.
/// </summary>
public static class ScenarioCommands
{
    /// <summary>The <c>--file</c> option of every scenario verb.</summary>
    public static Option<string?> FileOption() => new("--file") { Description = "Scenarios file (default: scenarios.yaml in the current directory or above)" };

    /// <summary>The <c>scenario</c> command group with <c>list</c>.</summary>
    public static Command Create()
    {
        var file = FileOption();
        var list = new Command("list", "List the scenarios of the scenarios file");
        list.Options.Add(file);
        list.SetAction((parse, _) => Task.FromResult(List(parse.GetValue(file))));

        var history = new Argument<string>("history") { Description = "A run's history file (JSON lines): the chaos service's run directory, or scenario run --report F's F.history.jsonl" };
        var json = new Option<bool>("--json") { Description = "Print the checks as JSON" };
        var check = new Command("check", "Check a saved run history again (every expect step and invariant); exit 0 when all hold, 1 when one does not, 2 when unreadable");
        check.Arguments.Add(history);
        check.Options.Add(json);
        check.SetAction((parse, _) => Task.FromResult(Check(parse.GetValue(history)!, parse.GetValue(json))));

        var scenario = new Command("scenario", "Chaos scenarios from scenarios.yaml");
        scenario.Subcommands.Add(list);
        scenario.Subcommands.Add(check);
        return scenario;
    }

    /// <summary>Reads a history file and checks it; prints one line per check (or JSON). Exit code 0, 1 or 2.</summary>
    public static int Check(string path, bool json)
    {
        Checking.RunHistory history;
        try
        {
            history = Checking.HistoryFile.Read(path);
        }
        catch (Exception e) when (e is Checking.HistoryFileException or FileNotFoundException or DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {path}: {e.Message}");
            return 2;
        }

        var checks = Checking.InvariantChecker.Check(history);
        if (json)
        {
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { scenario = history.Run?.Scenario, passed = checks.All(c => c.Ok), checks }, Execution.RunReport.Json));
        }
        else
        {
            Console.WriteLine($"{history.Run?.Scenario ?? "(no run header)"}: {history.Observations.Count} observations, {history.Steps.Count} steps, {history.Blocks.Count} block-log entries");
            foreach (var c in checks)
            {
                Console.WriteLine($"{(c.Ok ? "held    " : "VIOLATED")} {c.Name}: {c.Detail}");
            }
        }

        return checks.All(c => c.Ok) ? 0 : 1;
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

    /// <summary>Parses the scenarios file, or prints one line saying why it cannot and returns null.</summary>
    public static ScenarioFile? Load(string? file)
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
}
