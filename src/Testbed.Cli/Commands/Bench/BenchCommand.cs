using System.CommandLine;

namespace Testbed.Cli.Commands.Bench;

/// <summary>`testbed bench ...`: benchmarks that print a figure and its ratio to the anchor in the same run.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure a component and compare it with its anchor in the same run");
        // One line per benchmark.
        bench.Subcommands.Add(VmBench.Create());
        bench.Subcommands.Add(TrackerBench.Create());
        bench.Subcommands.Add(MineBench.Create());
        bench.Subcommands.Add(TorrentBench.Create());
        return bench;
    }
}
