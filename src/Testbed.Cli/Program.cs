using System.CommandLine;
using Testbed.Cli;
using Testbed.Cli.Commands;

var root = new RootCommand("testbed: wallets, seed import, torrents, tracker and DHT over the testbed's libraries");
// One line per command group; each group lives in Commands/.
root.Subcommands.Add(WalletCommand.Create());
root.Subcommands.Add(SeedImportCommand.Create());
root.Subcommands.Add(TrackerCommand.Create());
root.Subcommands.Add(TorrentCommand.Create());
root.Subcommands.Add(DhtCommand.Create());

// No response files: "@path" is an argument like any other, never a file read without a bound.
var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
if (parse.Errors.Count > 0)
{
    // Exit code 2 means "unusable arguments" across every command, so scripts can tell it from a failed check (1).
    await Console.Error.WriteLineAsync($"error: {string.Join("; ", parse.Errors.Select(e => CliErrors.Friendly(e.Message)).Distinct())}");
    return CliErrors.Unusable;
}

try
{
    // Failures reach CliErrors, the one place that turns them into one line and an exit code (no stack traces).
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    return CliErrors.Report(e);
}
