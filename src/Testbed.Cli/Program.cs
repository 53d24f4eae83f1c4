using System.CommandLine;
using Testbed.Cli.Commands;
using Testbed.Cli.Commands.Bench;

var root = new RootCommand("testbed: wallets, seed import, torrents, tracker and benchmarks over the testbed's libraries");
// One line per command group; each group lives in Commands/.
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(WalletCommand.Create());
root.Subcommands.Add(SeedImportCommand.Create());
root.Subcommands.Add(TrackerCommand.Create());
root.Subcommands.Add(TorrentCommand.Create());

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    // Exit code 2 means "unusable arguments" across every command, so scripts can tell it from a failed check (1).
    foreach (var error in parse.Errors)
    {
        await Console.Error.WriteLineAsync($"error: {error.Message}");
    }

    return 2;
}

return await parse.InvokeAsync();
