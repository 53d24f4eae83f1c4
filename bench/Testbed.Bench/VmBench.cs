using System.Security.Cryptography;
using System.Text;
using Testbed.Vm;

namespace Testbed.Bench;

/// <summary>
/// `testbed-bench vm`: a realistic replay (native mode, a wallet per transaction, fresh ids so the state grows,
/// ownership and ballot checks, the contract JSON decoded every time) and the same replay pre-decoded, against the
/// limit a replaying peer meets first: ES256 (ECDSA P-256) verifications per second on one core, measured in the same
/// run; and against the bound the state-root definition sets: the SHA-256 rate over the root bytes an action makes the
/// VM hash, measured in the same rounds. SUBLEQ steps per second too. Interleaved rounds, medians, ratios of medians.
/// </summary>
internal static class VmBench
{
    private const double ActionsTarget = 1_000_000;
    private const double StepsTarget = 150_000_000;
    private const int BlockSize = 1024;
    private const int ProposalCount = 1024;

    private const string PerCpu = "per CPU-second";
    private const string PerWall = "per second (wall)";
    private const string Replay = "actions: replay, native, JSON decoded";
    private const string ReplayDecoded = "actions: replay, native, pre-decoded";
    private const string Es256 = "ES256 verifications, one core";
    private const string Steps = "SUBLEQ steps, core loop";
    private const string MeteredStepsName = "SUBLEQ steps, subleq action in a block";
    private const string Sha = "SHA-256 bytes, 4 KiB inputs";
    private const string HashBound = "actions: state-root hashing bound";
    private const string PerAction = "root bytes per action";

    public static Command Create()
    {
        var shared = new BenchOptions();
        var seconds = shared.SampleSeconds("Measuring time of each ES256 and SUBLEQ sample, in seconds (default 1)", 1.0);
        var actions = shared.Bounded("--actions", "Actions (one per transaction) of each replay sample, fresh ids every sample (1024..10000000, default 262144)", 1024, 10_000_000, 262_144);
        var command = new Command("vm", "OISC VM: realistic replay actions/s (JSON decoded, native checks) and pre-decoded, SUBLEQ steps/s, against ES256 verifications/s on one core; interleaved rounds, medians")
        {
            shared.Json,
            seconds,
            actions,
            shared.Rounds,
        };
        shared.SetSampledAction(command, parseResult => parseResult.GetValue(actions), RunAsync, Print, BenchFigures.IndentedJson);
        return command;
    }

    private static async Task<VmBenchResult> RunAsync(TimeSpan duration, int actionsPerSample, int rounds, CancellationToken cancellationToken)
    {
        // Everything runs on this one thread; the figures are single-core figures.
        var jsonReplay = new ReplaySide(pre: false, firstId: 0);
        var decodedReplay = new ReplaySide(pre: true, firstId: 1L << 40);
        var verifier = new Es256Verifier();
        var hasher = new RootHashRate();

        // Warm-up: tiered JIT needs a few seconds of calls before the JSON path runs optimised code.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromSeconds(Math.Min(3, 3 * duration.TotalSeconds)))
        {
            jsonReplay.Sample(4 * BlockSize);
            decodedReplay.Sample(4 * BlockSize);
            Timed(TimeSpan.FromMilliseconds(50), cancellationToken, verifier.VerifyBatch);
            Timed(TimeSpan.FromMilliseconds(50), cancellationToken, CoreSteps);
            Timed(TimeSpan.FromMilliseconds(50), cancellationToken, hasher.HashBatch);
        }

        jsonReplay.RootBytesPerAction.Clear();

        var sides = new[]
        {
            Side.Sync(Replay, [PerCpu, PerWall], () => jsonReplay.Sample(actionsPerSample)),
            Side.Sync(ReplayDecoded, [PerCpu, PerWall], () => decodedReplay.Sample(actionsPerSample)),
            Side.Sync(Es256, [PerCpu, PerWall], () => Timed(duration, cancellationToken, verifier.VerifyBatch)),
            Side.Sync(Steps, [PerCpu, PerWall], () => Timed(duration, cancellationToken, CoreSteps)),
            Side.Sync(MeteredStepsName, [PerCpu, PerWall], () => Timed(duration, cancellationToken, MeteredSteps)),
            Side.Sync(Sha, [PerCpu, PerWall], () => Timed(duration, cancellationToken, hasher.HashBatch)),
        };
        var measured = await Interleaved.RunAsync(rounds, sides, cancellationToken).ConfigureAwait(false);

        // Per round: the SHA-256 rate over the bytes the JSON side's root hashed per action in that round's sample.
        var shaRate = measured.Find(Sha, PerCpu).Samples;
        var perAction = jsonReplay.RootBytesPerAction;
        var series = measured.Concat([
            Series.Of(PerAction, "bytes (JSON side)", perAction),
            Series.Of(HashBound, PerCpu, shaRate.Select((rate, round) => rate / Math.Max(perAction[round], 1)).ToArray()),
        ]).ToArray();
        var limit = new Limit("ES256 (ECDSA P-256, SHA-256) verifications of a JWS-sized input per CPU-second on one core", series.Find(Es256, PerCpu));
        var hashLimit = new Limit("state-root hashing: SHA-256 bytes per CPU-second (4 KiB inputs) / root bytes hashed per action by the JSON side, round by round", series.Find(HashBound, PerCpu));
        var replay = series.Find(Replay, PerCpu);
        var predecoded = series.Find(ReplayDecoded, PerCpu);
        var steps = series.Find(Steps, PerCpu);
        return new VmBenchResult(
            Rounds: rounds,
            Order: "each round runs every side once; the order is reversed every other round",
            ActionsPerSample: actionsPerSample,
            SecondsPerSample: duration.TotalSeconds,
            Series: series,
            Ratios: [Ratio.Of(replay, limit.Measured), Ratio.Of(predecoded, limit.Measured), Ratio.Of(replay, predecoded), Ratio.Of(series.Find(Replay, PerWall), series.Find(Es256, PerWall)), Ratio.Of(replay, hashLimit.Measured), Ratio.Of(predecoded, hashLimit.Measured)],
            Limit: limit,
            HashLimit: hashLimit,
            ActionsTarget: ActionsTarget,
            ActionsTargetRatio: replay.Median / ActionsTarget,
            StepsTarget: StepsTarget,
            StepsTargetRatio: steps.Median / StepsTarget,
            StateEntries: jsonReplay.Machine.State.Students.Count + jsonReplay.Machine.State.Courses.Count + jsonReplay.Machine.State.Nfts.Count + jsonReplay.Machine.State.Ballots.Count + jsonReplay.Machine.State.Proposals.Count,
            BlockSize: BlockSize,
            ProcessorCount: Environment.ProcessorCount,
            Note: "one thread; replay = native mode, one action per transaction signed by a wallet of its own: register_student, add_course, vote_proposal (1024 proposals, a new ballot each), generate_nft, transfer_nft of that NFT by its owner, in turn, fresh ids in every sample so the state grows over the run, blocks of 1024 including the state root and undo record; the JSON side decodes every contract inside the timed block, the pre-decoded side decodes before the clock starts; per-CPU-second figures divide by this process's CPU time (getrusage), so they stay meaningful on a loaded machine; the hashing bound divides the SHA-256 rate of each round by the bytes the JSON side's state root hashed per action in that round (the root definition's own work: the leaves of every changed bucket, each changed collection's bucket summary, the root input), so replay cannot pass it without a different root definition");
    }

    /// <summary>One replay side: its own machine, whose state grows with every sample, and its own fresh-id counter.</summary>
    private sealed class ReplaySide(bool pre, long firstId)
    {
        private long _next = firstId;
        private long _height;

        public OiscMachine Machine { get; } = new(VmMode.Native);

        /// <summary>Bytes the state root hashed per action in each sample, in order.</summary>
        public List<double> RootBytesPerAction { get; } = [];

        /// <summary>Applies <paramref name="actions"/> fresh transactions in blocks; returns actions per CPU-second and per wall second.</summary>
        public double[] Sample(int actions)
        {
            // Chunks of 64 blocks are made (and decoded, for the pre-decoded side) before their clock starts.
            const int blocksPerChunk = 64;
            var blocks = (actions + BlockSize - 1) / BlockSize;
            var cpu = TimeSpan.Zero;
            var wall = TimeSpan.Zero;
            long applied = 0;
            var hashedBefore = Machine.State.RootHashedBytes;
            for (var done = 0; done < blocks; done += blocksPerChunk)
            {
                var chunk = Enumerable.Range(0, Math.Min(blocksPerChunk, blocks - done)).Select(_ => NextBlock()).ToArray();
                var decoded = pre ? chunk.Select(b => Array.ConvertAll(b, Machine.Decode)).ToArray() : null;
                var cpuBefore = Environment.CpuUsage.TotalTime;
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < chunk.Length; i++)
                {
                    var effects = decoded is null ? Machine.ApplyBlock(++_height, chunk[i]) : Machine.ApplyDecodedBlock(++_height, decoded[i]);
                    applied += effects.Actions;
                }

                wall += clock.Elapsed;
                cpu += Environment.CpuUsage.TotalTime - cpuBefore;
            }

            RootBytesPerAction.Add((Machine.State.RootHashedBytes - hashedBefore) / (double)Math.Max(applied, 1));
            return [applied / Math.Max(cpu.TotalSeconds, 1e-6), applied / Math.Max(wall.TotalSeconds, 1e-6)];
        }

        private VmTransaction[] NextBlock()
        {
            var block = new VmTransaction[BlockSize];
            for (var i = 0; i < BlockSize; i++)
            {
                block[i] = Next();
            }

            return block;
        }

        /// <summary>The next transaction of the mix; every fifth one moves the NFT its sender minted just before.</summary>
        private VmTransaction Next()
        {
            var n = _next++;
            var g = n / 5;
            var wallet = Wallet(g);
            var id = g.ToString(CultureInfo.InvariantCulture);
            var contract = (n % 5) switch
            {
                0 => $$$"""{"actions":[{"action":"register_student","student":{"id":"S{{{id}}}","name":"John Doe","department":"Computer Science"}}]}""",
                1 => $$$"""{"actions":[{"action":"add_course","course":{"id":"C{{{id}}}","name":"Blockchain Technology","department":"Computer Science"}}]}""",
                2 => $$$"""{"actions":[{"action":"vote_proposal","proposal":{"id":"P{{{(g % ProposalCount).ToString(CultureInfo.InvariantCulture)}}}","description":"Increase Research Funding"}}]}""",
                3 => $$$$"""{"actions":[{"action":"generate_nft","nft":{"id":"NFT{{{{id}}}}","name":"RareArt","metadata":{"artist":"Alice","creation_date":"2024-11-23","description":"A rare piece of digital art."}}}]}""",
                _ => $$$"""{"actions":[{"action":"transfer_nft","id":"NFT{{{id}}}","to":"{{{Wallet(g + (1L << 50))}}}"}]}""",
            };
            return new VmTransaction(wallet, contract);
        }

        private static string Wallet(long n) => n.ToString("x64", CultureInfo.InvariantCulture);
    }

    /// <summary>ES256 as a peer checks a block's transactions: ECDSA P-256 over SHA-256 of a JWS signing input, r||s signature.</summary>
    private sealed class Es256Verifier
    {
        private const int Batch = 64;
        private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        private readonly byte[] _input;
        private readonly byte[] _signature;

        public Es256Verifier()
        {
            var header = Base64Url("""{"alg":"ES256","typ":"JWT"}""");
            var payload = Base64Url("""{"sender":"0000000000000000000000000000000000000000000000000000000000000001","nonce":1,"contract":{"actions":[{"action":"register_student","student":{"id":"S0001","name":"John Doe","department":"Computer Science"}}]}}""");
            _input = Encoding.ASCII.GetBytes(header + "." + payload);
            _signature = _key.SignData(_input, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }

        public long VerifyBatch()
        {
            for (var i = 0; i < Batch; i++)
            {
                if (!_key.VerifyData(_input, _signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
                {
                    throw new InvalidOperationException("the benchmark's ES256 signature did not verify");
                }
            }

            return Batch;
        }

        private static string Base64Url(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>SHA-256 as the state root uses it: one call per 4 KiB input, about the size of a bucket's leaves.</summary>
    private sealed class RootHashRate
    {
        private const int Batch = 256;
        private readonly byte[] _input = new byte[4096];
        private readonly byte[] _hash = new byte[32];

        public RootHashRate() => new Random(1).NextBytes(_input);

        public long HashBatch()
        {
            for (var i = 0; i < Batch; i++)
            {
                SHA256.HashData(_input, _hash);
                _input[i] ^= _hash[0];
            }

            return (long)Batch * _input.Length;
        }
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

    /// <summary>Runs <paramref name="work"/> for <paramref name="duration"/>; returns units per second of this process's CPU time and per wall-clock second.</summary>
    private static double[] Timed(TimeSpan duration, CancellationToken cancellationToken, Func<long> work)
    {
        var cpuBefore = Environment.CpuUsage.TotalTime;
        long units = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            units += work();
        }

        var wall = clock.Elapsed.TotalSeconds;
        var cpu = Math.Max((Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds, 1e-6);
        return [units / cpu, units / wall];
    }

    private static void Print(VmBenchResult r)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"bench vm: {r.Rounds} rounds, interleaved ({r.Order}); replay samples of {r.ActionsPerSample:N0} actions, other samples {r.SecondsPerSample:0.###} s; one thread"));
        foreach (var unit in r.Series.Select(s => s.Unit).Distinct())
        {
            foreach (var s in r.Series.Where(s => s.Unit == unit))
            {
                Console.WriteLine(s.Line());
            }
        }

        foreach (var ratio in r.Ratios)
        {
            Console.WriteLine(ratio.Line());
        }

        Console.WriteLine(r.Limit.Line());
        Console.WriteLine(r.HashLimit.Line());
        Console.WriteLine(string.Create(c, $"target: replay with JSON decoding {r.ActionsTarget:N0} actions/s: median x{r.ActionsTargetRatio:F2}; SUBLEQ core loop {r.StepsTarget:N0} steps/s: median x{r.StepsTargetRatio:F2} (per CPU-second)"));
        Console.WriteLine(string.Create(c, $"state after the run (JSON side): {r.StateEntries:N0} entries; {r.ProcessorCount} processors"));
        Console.WriteLine($"({r.Note})");
    }

    /// <summary>Figures of one `bench vm` run.</summary>
    private sealed record VmBenchResult(
        int Rounds,
        string Order,
        int ActionsPerSample,
        double SecondsPerSample,
        IReadOnlyList<Series> Series,
        IReadOnlyList<Ratio> Ratios,
        Limit Limit,
        Limit HashLimit,
        double ActionsTarget,
        double ActionsTargetRatio,
        double StepsTarget,
        double StepsTargetRatio,
        long StateEntries,
        int BlockSize,
        int ProcessorCount,
        string Note);
}
