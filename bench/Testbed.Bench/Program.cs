using Testbed.Bench;
using Testbed.CommandLine;

// `testbed-bench mine|vm|torrent|tracker`: benchmarks of the libraries and the tracker service, each printing its figure
// and its ratio to the anchor measured in the same run. The Aspire benches (startup, propagation, sync) are
// bench/Testbed.Bench.AppHost.
var root = new RootCommand("Measure a component and compare it with its anchor in the same run");
// One line per benchmark.
root.Subcommands.Add(VmBench.Create());
root.Subcommands.Add(TrackerBench.Create());
root.Subcommands.Add(MineBench.Create());
root.Subcommands.Add(TorrentBench.Create());

// No response files: "@path" is an argument like any other.
var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
if (parse.Errors.Count > 0)
{
    // Exit code 2: unusable arguments, as every testbed command.
    await Console.Error.WriteLineAsync($"error: {string.Join("; ", parse.Errors.Select(e => ParseErrorText.Friendly(e.Message)).Distinct())}");
    return 2;
}

try
{
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    // A bench that cannot run (a missing anchor program, a side that gave no figure) is a failed check: one line, exit 1.
    await Console.Error.WriteLineAsync($"error: {e.Message}");
    return 1;
}
