using System.Buffers.Binary;
using System.Security.Cryptography;
using Testbed.Ledger.ProofOfWork;

namespace Testbed.Bench;

/// <summary>
/// `testbed-bench mine`: proof-of-work attempts per second per core and in total, with the ratios, measured in the
/// same run, to .NET SHA256.HashData over the header, the seed's Python miner and OpenSSL's SHA-256 compression rate.
/// </summary>
internal static class MineBench
{
    private const int HeaderSize = 160;
    private static readonly BenchTarget PerCoreTarget = BenchTarget.AtLeast(11_000_000);
    private static readonly BenchTarget LimitRatioTarget = BenchTarget.AtLeast(2);

    /// <summary>The seed's proof_of_work loop: a JWT encode (HS256) of the block payload and a SHA-256 per attempt.</summary>
    private const string SeedMinerScript = """
        import datetime, hashlib, sys, time, warnings
        warnings.simplefilter("ignore")
        import jwt
        secret_key = 'your-secret-key'
        prev_hash = '0' * 64
        transaction_data = {"actions": [{"action": "register_student", "student": {"id": "S001", "name": "John Doe", "department": "Computer Science"}}]}
        difficulty = 64
        seconds = float(sys.argv[1])
        nonce = 0
        start = time.perf_counter()
        cpu_start = time.process_time()
        deadline = start + seconds
        while True:
            for _ in range(500):
                payload = {'prev_hash': prev_hash, 'timestamp': datetime.datetime.utcnow().isoformat(), 'transaction_data': transaction_data, 'nonce': nonce}
                token = jwt.encode(payload, secret_key, algorithm='HS256')
                hash_result = hashlib.sha256(token.encode()).hexdigest()
                if hash_result[:difficulty] == '0' * difficulty:
                    break
                nonce += 1
            if time.perf_counter() >= deadline:
                break
        elapsed = time.perf_counter() - start
        cpu = max(time.process_time() - cpu_start, 1e-6)
        print(nonce, elapsed, cpu)
        """;

    private const string PerCpu = "per CPU-second";
    private const string PerWall = "per second (wall)";
    private const string Ours = "ours, 1 thread";
    private const string OpenSsl = "OpenSSL SHA-256 compressions, 1 thread";
    private const string HashData = ".NET SHA256.HashData, 1 thread";
    private const string Seed = "the seed's Python miner, 1 thread";

    public static Command Create()
    {
        var shared = new BenchOptions();
        var seconds = shared.SampleSeconds("Measuring time of each sample, in seconds (openssl speed rounds it to whole seconds, at least 1; default 2)", 2.0);
        var threads = shared.Bounded("--threads", "Threads for the all-core figure (default: one per processor)", 1, 1024, Environment.ProcessorCount);
        var command = new Command("mine", "Proof-of-work attempts/s per core and in total against OpenSSL SHA-256 compressions per core (the limit), .NET SHA256.HashData and the seed's Python miner; interleaved rounds, medians")
        {
            seconds,
            threads,
            shared.Rounds,
            shared.Json,
        };
        shared.SetSampledAction(command, parseResult => parseResult.GetValue(threads), RunAsync, Print, BenchFigures.IndentedJson);
        return command;
    }

    private static async Task<MineBenchResult> RunAsync(TimeSpan duration, int threads, int rounds, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderSize];
        RandomNumberGenerator.Fill(header.AsSpan(0, HeaderSize - ProofOfWorkSearch.NonceSize));
        var kernel = Sha256Kernels.Best;
        var allThreads = $"ours, {threads} threads";

        // Warm-up of both .NET sides, so that neither's first sample pays for JIT compilation and tiering.
        Miner(header, 1, kernel, TimeSpan.FromMilliseconds(300), cancellationToken);
        HashDataRate(header, TimeSpan.FromMilliseconds(300), cancellationToken);
        var openssl = OpenSslSpeed.Find();
        var python = File.Exists("/usr/bin/python3") && await SeedRateAsync(0.2, cancellationToken) is not null ? "/usr/bin/python3" : null;
        var sides = new List<Side>
        {
            Side.Sync(Ours, [PerCpu, PerWall], () => Miner(header, 1, kernel, duration, cancellationToken).Values),
            Side.Sync(allThreads, [PerCpu, PerWall], () => Miner(header, threads, kernel, duration, cancellationToken).Values),
            Side.Sync(HashData, [PerCpu, PerWall], () => HashDataRate(header, duration, cancellationToken).Values),
        };
        if (openssl is not null)
        {
            sides.Add(new Side(OpenSsl, [PerCpu], async token => [await OpenSslSpeed.BytesPerSecondAsync(openssl, "sha256", OpenSslSpeed.Seconds(duration), token) / 64 ?? throw new InvalidOperationException("openssl speed gave no sha256 figure")]));
        }

        if (python is not null)
        {
            sides.Add(new Side(Seed, [PerCpu, PerWall], async token => (await SeedRateAsync(duration.TotalSeconds, token) ?? throw new InvalidOperationException("the seed's miner gave no figure")).Values));
        }

        var series = await Interleaved.RunAsync(rounds, sides, cancellationToken);

        // Informational, one run each (no side-by-side comparison): every kernel's single-thread rate and the cancellation latency.
        var kernels = Sha256Kernels.Supported
            .Select(k => (Kernel: k, Rate: Miner(header, 1, k, TimeSpan.FromSeconds(Math.Max(1, duration.TotalSeconds / 3)), cancellationToken)))
            .Select(r => new KernelFigure(r.Kernel.ToString(), Sha256Kernels.Lanes(r.Kernel), r.Rate.PerSecond, r.Rate.PerCpuSecond))
            .ToArray();
        var cancelLatency = CancellationLatency(header, threads, kernel);

        var ours = series.Find(Ours, PerCpu);
        var ratios = new List<Ratio>();
        Limit? limit = null;
        if (openssl is not null)
        {
            limit = new Limit("OpenSSL SHA-256 (openssl speed -evp sha256, 16 KiB blocks, one thread, user CPU time) compressions (bytes / 64) per CPU-second on one core", series.Find(OpenSsl, PerCpu));
            ratios.Add(Ratio.Of(ours, limit.Measured));
            ratios.Add(Ratio.Of(series.Find(allThreads, PerCpu), limit.Measured));
        }

        ratios.Add(Ratio.Of(ours, series.Find(HashData, PerCpu)));
        ratios.Add(Ratio.Of(series.Find(Ours, PerWall), series.Find(HashData, PerWall)));
        if (python is not null)
        {
            ratios.Add(Ratio.Of(ours, series.Find(Seed, PerCpu)));
        }

        return new MineBenchResult(
            Kernel: kernel.ToString(),
            Lanes: Sha256Kernels.Lanes(kernel),
            HeaderBytes: HeaderSize,
            CompressionsPerAttempt: 1,
            Threads: threads,
            Rounds: rounds,
            Order: "each round runs every side once; the order is reversed every other round",
            SecondsPerSample: duration.TotalSeconds,
            Series: series,
            Ratios: ratios,
            Limit: limit,
            LimitSource: openssl is null ? "openssl not found: the limit was not measured" : $"measured: {OpenSslSpeed.CommandLine(openssl, "sha256", OpenSslSpeed.Seconds(duration))} in every round",
            SeedSource: python is null ? "python3 or python3-jwt missing: the seed's miner was not measured (anchor about 55,000 attempts/s)" : $"measured: the seed's proof_of_work loop (PyJWT HS256 encode + hashlib.sha256 per attempt) with {python}, one thread, in every round",
            TargetLimitRatio: LimitRatioTarget.Goal,
            LimitRatio: limit is null ? null : ours.Median / limit.Measured.Median,
            TargetPerCore: PerCoreTarget.Goal,
            PerCoreMedian: ours.Median,
            Kernels: kernels,
            CancelLatencyMilliseconds: cancelLatency,
            ProcessorCount: Environment.ProcessorCount,
            LoadAverage: Measurement.LoadAverage.Read(),
            Note: "one compression per attempt, so attempts and compressions compare directly; per CPU-second figures divide each side's work by the CPU time it got (openssl speed only reports that), so they stay meaningful on a loaded machine; the N-thread side's per-CPU-second figure is its rate per busy core");
    }

    /// <summary>Runs the real search at an unreachable difficulty for <paramref name="duration"/> and counts its attempts.</summary>
    private static Rate Miner(byte[] header, int threads, Sha256Kernel kernel, TimeSpan duration, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(duration);
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var outcome = ProofOfWorkSearch.Run(header, 256, threads, kernel, stop.Token);
        var cpu = Math.Max((Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds, 1e-3);
        return new Rate(outcome.Attempts / outcome.Elapsed.TotalSeconds, outcome.Attempts / cpu);
    }

    /// <summary>The naive path: SHA256.HashData over the whole header for every nonce, on one thread.</summary>
    private static Rate HashDataRate(byte[] header, TimeSpan duration, CancellationToken cancellationToken)
    {
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var candidate = (byte[])header.Clone();
        Span<byte> hash = stackalloc byte[32];
        ulong nonce = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            for (var i = 0; i < 4096; i++, nonce++)
            {
                BinaryPrimitives.WriteUInt64BigEndian(candidate.AsSpan(HeaderSize - ProofOfWorkSearch.NonceSize), nonce);
                SHA256.HashData(candidate, hash);
                if (ProofOfWorkSearch.Meets(hash, 256))
                {
                    break;
                }
            }
        }

        var wall = clock.Elapsed.TotalSeconds;
        return new Rate(nonce / wall, nonce / Math.Max((Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds, 1e-3));
    }

    /// <summary>Milliseconds from cancelling a running all-core search to its return.</summary>
    private static double CancellationLatency(byte[] header, int threads, Sha256Kernel kernel)
    {
        using var cancel = new CancellationTokenSource();
        long cancelledAt = 0;
        var canceller = new Thread(() =>
        {
            Thread.Sleep(300);
            Volatile.Write(ref cancelledAt, Stopwatch.GetTimestamp());
            cancel.Cancel();
        });
        canceller.Start();
        ProofOfWorkSearch.Run(header, 256, threads, kernel, cancel.Token);
        var returnedAt = Stopwatch.GetTimestamp();
        canceller.Join();
        return Stopwatch.GetElapsedTime(Volatile.Read(ref cancelledAt), returnedAt).TotalMilliseconds;
    }

    /// <summary>Runs the seed's miner loop with /usr/bin/python3 and PyJWT for <paramref name="seconds"/>; null when either is missing or the run fails.</summary>
    private static async Task<Rate?> SeedRateAsync(double seconds, CancellationToken cancellationToken)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python))
        {
            return null;
        }

        var output = await ToolRun.StdoutAsync(python, ["-c", SeedMinerScript, seconds.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(60 + seconds), cancellationToken);
        var fields = output?.Trim().Split(' ');
        return fields is { Length: 3 }
            && long.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var attempts) && attempts > 0
            && double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var wall) && wall > 0
            && double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var cpu) && cpu > 0
            ? new Rate(attempts / wall, attempts / cpu)
            : null;
    }

    private static void Print(MineBenchResult r)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"bench mine: {r.Kernel} ({r.Lanes} lanes, 2 interleaved batches), {r.HeaderBytes}-byte header, {r.CompressionsPerAttempt} SHA-256 compression per attempt; {r.Rounds} rounds, interleaved ({r.Order}), {r.SecondsPerSample:0.###} s per sample"));
        foreach (var unit in new[] { PerCpu, PerWall })
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

        Console.WriteLine(r.Limit is { } limit ? limit.Line() : $"limit: not measured ({r.LimitSource})");
        Console.WriteLine(r.LimitRatio is { } x
            ? string.Create(c, $"target: ours per core >= {r.TargetLimitRatio:F0}x the limit: median x{x:F2}, {BenchFigures.Verdict(LimitRatioTarget.MetBy(x))}; >= {r.TargetPerCore:N0}/s per core: {BenchFigures.Verdict(PerCoreTarget.MetBy(r.PerCoreMedian))} (per CPU-second)")
            : string.Create(c, $"target: >= {r.TargetPerCore:N0}/s per core: {BenchFigures.Verdict(PerCoreTarget.MetBy(r.PerCoreMedian))} (per CPU-second)"));
        Console.WriteLine($"seed: {r.SeedSource}");
        Console.WriteLine("one run each (no comparison):");
        foreach (var k in r.Kernels)
        {
            Console.WriteLine(string.Create(c, $"  kernel {k.Kernel,-16} x{k.Lanes,-2}  {k.AttemptsPerSecond,15:N0} /s (wall)  {k.AttemptsPerCpuSecond,15:N0} per CPU-second  (1 thread)"));
        }

        Console.WriteLine(string.Create(c, $"  cancellation latency {r.CancelLatencyMilliseconds:F3} ms (cancel to return, {r.Threads} threads)"));
        Console.WriteLine($"load average at the end: {r.LoadAverage} ({r.ProcessorCount} processors)");
        Console.WriteLine($"({r.Note})");
    }

    private readonly record struct Rate(double PerSecond, double PerCpuSecond)
    {
        /// <summary>The sample in the sides' metric order: per CPU-second, per wall second.</summary>
        public double[] Values => [PerCpuSecond, PerSecond];
    }

    /// <summary>One kernel's single-thread rate.</summary>
    private sealed record KernelFigure(string Kernel, int Lanes, double AttemptsPerSecond, double AttemptsPerCpuSecond);

    /// <summary>Figures of one `bench mine` run.</summary>
    private sealed record MineBenchResult(
        string Kernel,
        int Lanes,
        int HeaderBytes,
        int CompressionsPerAttempt,
        int Threads,
        int Rounds,
        string Order,
        double SecondsPerSample,
        IReadOnlyList<Series> Series,
        IReadOnlyList<Ratio> Ratios,
        Limit? Limit,
        string LimitSource,
        string SeedSource,
        double TargetLimitRatio,
        double? LimitRatio,
        double TargetPerCore,
        double PerCoreMedian,
        KernelFigure[] Kernels,
        double CancelLatencyMilliseconds,
        int ProcessorCount,
        string LoadAverage,
        string Note);
}
