using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Testbed.Chaos.Scenarios;

namespace Testbed.Chaos.Cli;

/// <summary>
/// <c>scenario list [--file F]</c>, and what every scenario verb shares: the scenarios file and how it is loaded. The
/// AppHost adds <c>scenario run</c>, which needs a testbed.
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

        var scenario = new Command("scenario", "Chaos scenarios from scenarios.yaml");
        scenario.Subcommands.Add(list);
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
