using System.CommandLine;
using Testbed.Chaos.Cli;

namespace Testbed.AppHost.Headless;

/// <summary>
/// The AppHost's headless verb <c>scenario list|run|check</c> (the benches are bench/Testbed.Bench.AppHost). Exit codes:
/// 0 done, 1 a check failed, 2 unusable arguments or input.
/// </summary>
public static class HeadlessCommandLine
{
    /// <summary>Whether <paramref name="args"/> name a headless verb rather than a testbed run.</summary>
    public static bool Handles(string[] args) => args is ["scenario", ..];

    /// <summary>Parses and runs the verb.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Testbed AppHost headless verbs");
        var scenario = ScenarioCommands.Create();
        scenario.Subcommands.Add(ScenarioRunCommand.Create());
        root.Subcommands.Add(scenario);
        return await InvokeAsync(root, args);
    }

    /// <summary>
    /// Parses <paramref name="args"/> against <paramref name="root"/> and runs its command; unusable arguments print one
    /// <c>error:</c> line each and exit 2. The bench AppHost runs its commands through this too.
    /// </summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        ArgumentNullException.ThrowIfNull(root);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error.Message}");
            }

            return 2;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }
}
