using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Testbed.Vm;

namespace Testbed.Cli.Commands.Bench;

/// <summary>`testbed bench vm`: seed-mix actions per second and SUBLEQ steps per second on one thread, against the 1 M/s and 150 M/s targets.</summary>
internal static class VmBench
{
    private const double ActionsTarget = 1_000_000;
    private const double StepsTarget = 150_000_000;
    private const int BlockSize = 1024;
    private const int IdsPerKind = 1024;

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object" };
        var seconds = new Option<double>("--seconds") { Description = "Measuring time per figure, in seconds", DefaultValueFactory = _ => 3.0 };
        var command = new Command("vm", "OISC VM: seed-mix actions/s and SUBLEQ steps/s on one thread, with the ratio to the targets (1 M actions/s, 150 M steps/s)");
        command.Options.Add(json);
        command.Options.Add(seconds);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var duration = parseResult.GetValue(seconds);
            if (!(duration is > 0 and <= 600))
            {
                Console.Error.WriteLine("error: --seconds must be in (0, 600]");
                return Task.FromResult(2);
            }

            var result = Run(TimeSpan.FromSeconds(duration), cancellationToken);
            if (parseResult.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            }
            else
            {
                Print(result);
            }

            return Task.FromResult(0);
        });
        return command;
    }

    private static VmBenchResult Run(TimeSpan duration, CancellationToken cancellationToken)
    {
        // Everything runs on this one thread; the figures are single-core figures.
        var contracts = SeedMix();
        var decodedMachine = new OiscMachine(VmMode.Seed);
        var decoded = contracts.Select(c => decodedMachine.Decode(new VmTransaction("", c))).ToArray();
        var raw = contracts.Select(c => new VmTransaction("", c)).ToArray();

        var applied = Measure(duration, cancellationToken, () => ApplyDecoded(decodedMachine, decoded));
        var jsonMachine = new OiscMachine(VmMode.Seed);
        var parsedAndApplied = Measure(duration, cancellationToken, () => ApplyJson(jsonMachine, raw));
        var core = Measure(duration, cancellationToken, CoreSteps);
        var metered = Measure(duration, cancellationToken, MeteredSteps);

        return new VmBenchResult(
            ActionsPerSecond: applied.Wall,
            ActionsPerCpuSecond: applied.Cpu,
            ActionsTarget: ActionsTarget,
            ActionsRatio: applied.Wall / ActionsTarget,
            ActionsRatioPerCpuSecond: applied.Cpu / ActionsTarget,
            DecodeAndApplyActionsPerSecond: parsedAndApplied.Wall,
            DecodeAndApplyActionsPerCpuSecond: parsedAndApplied.Cpu,
            SubleqStepsPerSecond: core.Wall,
            SubleqStepsPerCpuSecond: core.Cpu,
            StepsTarget: StepsTarget,
            StepsRatio: core.Wall / StepsTarget,
            StepsRatioPerCpuSecond: core.Cpu / StepsTarget,
            MeteredSubleqStepsPerSecond: metered.Wall,
            MeteredSubleqStepsPerCpuSecond: metered.Cpu,
            CpuShare: Math.Min(applied.Share, Math.Min(parsedAndApplied.Share, Math.Min(core.Share, metered.Share))),
            BlockSize: BlockSize,
            Threads: 1,
            ProcessorCount: Environment.ProcessorCount,
            Note: "one thread; seed-mix = register_student, add_course, vote_proposal, generate_nft in turn over 1024 ids each, one action per transaction, seed mode, blocks of 1024 including the state root and undo record of each block; per-CPU-second figures divide by the process CPU time, so they stay meaningful on a loaded machine");
    }

    /// <summary>Four seed actions in turn over 1024 ids per kind, one action per transaction, like the seed's contracts.</summary>
    private static string[] SeedMix()
    {
        var contracts = new string[4 * IdsPerKind];
        for (var i = 0; i < IdsPerKind; i++)
        {
            var n = i.ToString("D4", CultureInfo.InvariantCulture);
            contracts[(4 * i) + 0] = $$$"""{"actions":[{"action":"register_student","student":{"id":"S{{{n}}}","name":"John Doe","department":"Computer Science"}}]}""";
            contracts[(4 * i) + 1] = $$$"""{"actions":[{"action":"add_course","course":{"id":"C{{{n}}}","name":"Blockchain Technology","department":"Computer Science"}}]}""";
            contracts[(4 * i) + 2] = $$$"""{"actions":[{"action":"vote_proposal","proposal":{"id":"P{{{n}}}","description":"Increase Research Funding"}}]}""";
            contracts[(4 * i) + 3] = $$$$"""{"actions":[{"action":"generate_nft","nft":{"id":"NFT{{{{n}}}}","name":"RareArt","metadata":{"artist":"Alice","creation_date":"2024-11-23","description":"A rare piece of digital art."}}}]}""";
        }

        return contracts;
    }

    private static long ApplyDecoded(OiscMachine machine, DecodedTransaction[] transactions)
    {
        for (var i = 0; i < transactions.Length; i += BlockSize)
        {
            machine.ApplyDecodedBlock(i, new ArraySegment<DecodedTransaction>(transactions, i, BlockSize));
        }

        return transactions.Length;
    }

    private static long ApplyJson(OiscMachine machine, VmTransaction[] transactions)
    {
        for (var i = 0; i < transactions.Length; i += BlockSize)
        {
            machine.ApplyBlock(i, new ArraySegment<VmTransaction>(transactions, i, BlockSize));
        }

        return transactions.Length;
    }

    private static readonly long[] CoreMemory = new long[100];

    /// <summary>The multiplication program (result += x, y times) with y large enough for about 50 M steps.</summary>
    private static long CoreSteps()
    {
        LoadMultiply(CoreMemory, 3, 10_000_000);
        var result = SubleqCore.Run(CoreMemory, 0, long.MaxValue);
        return result.Outcome == SubleqOutcome.Halted ? result.Steps : throw new InvalidOperationException($"benchmark program ended with {result.Outcome}");
    }

    private static readonly OiscMachine MeteredMachine = new(VmMode.Native, new VmOptions { GasPerTransaction = 60_000_000, GasPerBlock = 60_000_000 });

    private static readonly DecodedTransaction MeteredProgram = MeteredMachine.Decode(new VmTransaction("ab", MultiplyContract(3, 10_000_000)));

    /// <summary>The same program as a subleq action inside a block: gas metering, snapshot for undo and state root included.</summary>
    private static long MeteredSteps() => MeteredMachine.ApplyDecodedBlock(1, [MeteredProgram]).Steps;

    private static void LoadMultiply(long[] memory, long x, long y)
    {
        Array.Clear(memory);
        long[] program = [17, 15, 3, 15, 16, 6, 15, 15, 9, 19, 18, -1, 15, 15, 0, 0, 0, x, y, 1];
        program.CopyTo(memory, 0);
    }

    private static string MultiplyContract(long x, long y) =>
        $$$"""{"actions":[{"action":"subleq","program":[17,15,3,15,16,6,15,15,9,19,18,-1,15,15,0,0,0,{{{x}}},{{{y}}},1]}]}""";

    /// <summary>Warms <paramref name="work"/> up, then runs it for <paramref name="duration"/>; returns units per wall-clock second and per second of this process's CPU time.</summary>
    private static (double Wall, double Cpu, double Share) Measure(TimeSpan duration, CancellationToken cancellationToken, Func<long> work)
    {
        // Tiered JIT needs a few seconds of calls before the JSON path runs optimised code.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromSeconds(Math.Min(3, duration.TotalSeconds)))
        {
            work();
        }

        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        long units = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            units += work();
        }

        var wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        var cpu = Math.Max((process.TotalProcessorTime - cpuBefore).TotalSeconds, 1e-3);
        return (units / wall, units / cpu, cpu / wall);
    }

    private static void Print(VmBenchResult r)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine("figure                                               per second (wall)   per CPU-second   target        ratio (wall / CPU)");
        Console.WriteLine(string.Create(c, $"seed-mix actions, pre-decoded, blocks of {r.BlockSize,-5}       {r.ActionsPerSecond,17:N0}  {r.ActionsPerCpuSecond,15:N0}   {r.ActionsTarget,11:N0}   {r.ActionsRatio:F2} / {r.ActionsRatioPerCpuSecond:F2}"));
        Console.WriteLine(string.Create(c, $"seed-mix actions, JSON decode + apply               {r.DecodeAndApplyActionsPerSecond,17:N0}  {r.DecodeAndApplyActionsPerCpuSecond,15:N0}"));
        Console.WriteLine(string.Create(c, $"SUBLEQ steps, core loop                             {r.SubleqStepsPerSecond,17:N0}  {r.SubleqStepsPerCpuSecond,15:N0}   {r.StepsTarget,11:N0}   {r.StepsRatio:F2} / {r.StepsRatioPerCpuSecond:F2}"));
        Console.WriteLine(string.Create(c, $"SUBLEQ steps, subleq action in a block (metered)    {r.MeteredSubleqStepsPerSecond,17:N0}  {r.MeteredSubleqStepsPerCpuSecond,15:N0}"));
        Console.WriteLine(string.Create(c, $"lowest CPU share while measuring: {r.CpuShare:P0} of one core ({r.ProcessorCount} processors){(r.CpuShare < 0.9 ? "; the machine is busy, wall-clock figures are low" : "")}"));
        Console.WriteLine($"({r.Note})");
    }

    /// <summary>Figures of one `bench vm` run.</summary>
    private sealed record VmBenchResult(
        double ActionsPerSecond,
        double ActionsPerCpuSecond,
        double ActionsTarget,
        double ActionsRatio,
        double ActionsRatioPerCpuSecond,
        double DecodeAndApplyActionsPerSecond,
        double DecodeAndApplyActionsPerCpuSecond,
        double SubleqStepsPerSecond,
        double SubleqStepsPerCpuSecond,
        double StepsTarget,
        double StepsRatio,
        double StepsRatioPerCpuSecond,
        double MeteredSubleqStepsPerSecond,
        double MeteredSubleqStepsPerCpuSecond,
        double CpuShare,
        int BlockSize,
        int Threads,
        int ProcessorCount,
        string Note);
}
