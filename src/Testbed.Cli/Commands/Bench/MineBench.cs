using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Testbed.Ledger.ProofOfWork;

namespace Testbed.Cli.Commands.Bench;

/// <summary>
/// `testbed bench mine`: proof-of-work attempts per second per core and in total, with the ratios, measured in the
/// same run, to .NET SHA256.HashData over the header, the seed's Python miner and OpenSSL's SHA-256 compression rate.
/// </summary>
internal static class MineBench
{
    private const int HeaderSize = 160;
    private const double TargetPerCore = 11_000_000;
    private const double SeedAnchor = 55_000;
    private const double PythonSeconds = 2;

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

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

    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Measuring time of each miner figure, in seconds", DefaultValueFactory = _ => 3.0 };
        var threads = new Option<int>("--threads") { Description = "Threads for the all-core figure (default: one per processor)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object" };
        var command = new Command("mine", "Proof-of-work attempts/s per core and in total, with the ratios to .NET SHA256.HashData, the seed's Python miner and OpenSSL SHA-256 (11 M/s per core target)");
        command.Options.Add(seconds);
        command.Options.Add(threads);
        command.Options.Add(json);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var duration = parseResult.GetValue(seconds);
            var threadCount = parseResult.GetValue(threads);
            if (!(duration is > 0 and <= 600))
            {
                await Console.Error.WriteLineAsync("error: --seconds must be in (0, 600]");
                return 2;
            }

            if (threadCount is < 1 or > 1024)
            {
                await Console.Error.WriteLineAsync("error: --threads must be in 1..1024");
                return 2;
            }

            var result = await RunAsync(TimeSpan.FromSeconds(duration), threadCount, cancellationToken);
            if (parseResult.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(result, JsonOptions));
            }
            else
            {
                Print(result);
            }

            return 0;
        });
        return command;
    }

    private static async Task<MineBenchResult> RunAsync(TimeSpan duration, int threads, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderSize];
        RandomNumberGenerator.Fill(header.AsSpan(0, HeaderSize - ProofOfWorkSearch.NonceSize));
        var kernel = Sha256Kernels.Best;

        // Warm-up: the JIT compiles the kernels at full optimisation before anything is timed.
        Miner(header, 1, kernel, TimeSpan.FromMilliseconds(300), cancellationToken);
        var oneThread = Miner(header, 1, kernel, duration, cancellationToken);
        var allThreads = Miner(header, threads, kernel, duration, cancellationToken);
        var kernels = Sha256Kernels.Supported
            .Select(k => (Kernel: k, Rate: Miner(header, 1, k, duration / 3, cancellationToken)))
            .Select(r => new KernelFigure(r.Kernel.ToString(), Sha256Kernels.Lanes(r.Kernel), r.Rate.PerSecond, r.Rate.PerCpuSecond))
            .ToArray();
        var dotnet = HashDataRate(header, duration, cancellationToken);
        var cancelLatency = CancellationLatency(header, threads, kernel);
        var seed = await SeedRateAsync(cancellationToken);
        var openSsl = await OpenSslRateAsync(cancellationToken);

        var perCore = oneThread.PerSecond;
        var perCoreCpu = oneThread.PerCpuSecond;
        return new MineBenchResult(
            Kernel: kernel.ToString(),
            Lanes: Sha256Kernels.Lanes(kernel),
            HeaderBytes: HeaderSize,
            CompressionsPerAttempt: 1,
            PerCoreAttemptsPerSecond: perCore,
            PerCoreAttemptsPerCpuSecond: perCoreCpu,
            Threads: threads,
            TotalAttemptsPerSecond: allThreads.PerSecond,
            TotalAttemptsPerCpuSecond: allThreads.PerCpuSecond,
            PerCoreInTotalRun: allThreads.PerSecond / Math.Min(threads, Environment.ProcessorCount),
            Kernels: kernels,
            DotnetHashDataPerSecond: dotnet.PerSecond,
            DotnetHashDataPerCpuSecond: dotnet.PerCpuSecond,
            RatioToDotnetHashData: perCore / dotnet.PerSecond,
            RatioToDotnetHashDataPerCpuSecond: perCoreCpu / dotnet.PerCpuSecond,
            SeedAttemptsPerSecond: seed.Rate.PerSecond,
            SeedAttemptsPerCpuSecond: seed.Rate.PerCpuSecond,
            SeedSource: seed.Source,
            RatioToSeed: perCore / seed.Rate.PerSecond,
            RatioToSeedPerCpuSecond: perCoreCpu / seed.Rate.PerCpuSecond,
            OpenSslCompressionsPerCpuSecond: openSsl,
            OpenSslSource: openSsl is null ? "openssl not found or unreadable output" : "measured: openssl speed -seconds 2 -bytes 16384 -evp sha256 (one thread, user CPU time), bytes / 64",
            RatioToOpenSslPerCpuSecond: openSsl is null ? null : perCoreCpu / openSsl,
            TargetPerCore: TargetPerCore,
            TargetMet: perCore >= TargetPerCore,
            TargetMetPerCpuSecond: perCoreCpu >= TargetPerCore,
            CancelLatencyMilliseconds: cancelLatency,
            ProcessorCount: Environment.ProcessorCount,
            LoadAverage: LoadAverage(),
            Note: "per core = the miner on one thread; HashData, the seed and openssl speed also run on one thread; wall-clock ratios compare wall rates, per-CPU-second ratios divide each side's work by the CPU time it got (openssl speed only reports that), so they stay meaningful on a loaded machine");
    }

    /// <summary>Runs the real search at an unreachable difficulty for <paramref name="duration"/> and counts its attempts.</summary>
    private static Rate Miner(byte[] header, int threads, Sha256Kernel kernel, TimeSpan duration, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(duration);
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var outcome = ProofOfWorkSearch.Run(header, 256, threads, kernel, stop.Token);
        process.Refresh();
        var cpu = Math.Max((process.TotalProcessorTime - cpuBefore).TotalSeconds, 1e-3);
        return new Rate(outcome.Attempts / outcome.Elapsed.TotalSeconds, outcome.Attempts / cpu);
    }

    /// <summary>The naive path: SHA256.HashData over the whole header for every nonce, on one thread.</summary>
    private static Rate HashDataRate(byte[] header, TimeSpan duration, CancellationToken cancellationToken)
    {
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
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
        process.Refresh();
        return new Rate(nonce / wall, nonce / Math.Max((process.TotalProcessorTime - cpuBefore).TotalSeconds, 1e-3));
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

    /// <summary>Runs the seed's miner loop with /usr/bin/python3 and PyJWT; the 55,000/s anchor when either is missing.</summary>
    private static async Task<(Rate Rate, string Source)> SeedRateAsync(CancellationToken cancellationToken)
    {
        const string python = "/usr/bin/python3";
        var anchor = (new Rate(SeedAnchor, SeedAnchor), "anchor: about 55,000 attempts/s (python3 or python3-jwt missing, not measured)");
        if (!File.Exists(python))
        {
            return anchor;
        }

        var output = await RunToolAsync(python, ["-c", SeedMinerScript, PythonSeconds.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(60), cancellationToken);
        var fields = output?.Trim().Split(' ');
        return fields is { Length: 3 }
            && long.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var attempts) && attempts > 0
            && double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var wall) && wall > 0
            && double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var cpu) && cpu > 0
            ? (new Rate(attempts / wall, attempts / cpu), $"measured: the seed's proof_of_work loop (PyJWT HS256 encode + hashlib.sha256 per attempt) with {python}, {PythonSeconds} s, one thread")
            : anchor;
    }

    /// <summary>OpenSSL's bulk SHA-256 speed on one thread, as 64-byte compressions per second of CPU time (openssl speed divides by user CPU time unless given -elapsed).</summary>
    private static async Task<double?> OpenSslRateAsync(CancellationToken cancellationToken)
    {
        var openssl = new[] { "/usr/bin/openssl", "/usr/local/bin/openssl" }.FirstOrDefault(File.Exists);
        if (openssl is null)
        {
            return null;
        }

        var output = await RunToolAsync(openssl, ["speed", "-seconds", "2", "-bytes", "16384", "-evp", "sha256"], TimeSpan.FromSeconds(60), cancellationToken);

        // The result row reads "sha256  1910525.64k": thousands of bytes per second.
        var row = output?.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("sha256 ", StringComparison.Ordinal));
        var figure = row?.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        return figure is not null && figure.EndsWith('k')
            && double.TryParse(figure[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var kilobytes) && kilobytes > 0
            ? kilobytes * 1000 / 64
            : null;
    }

    /// <summary>Runs a tool to completion and returns its standard output, or null when it fails, times out or can't start.</summary>
    private static async Task<string?> RunToolAsync(string path, string[] arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            if (!process.Start())
            {
                return null;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(limit.Token);
            var stderr = process.StandardError.ReadToEndAsync(limit.Token);
            await process.WaitForExitAsync(limit.Token);
            var text = await stdout;
            await stderr;
            return process.ExitCode == 0 ? text : null;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return null;
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static void Print(MineBenchResult r)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"proof-of-work miner: {r.Kernel} ({r.Lanes} lanes, 2 interleaved batches), {r.HeaderBytes}-byte header, {r.CompressionsPerAttempt} SHA-256 compression per attempt"));
        Console.WriteLine("                                     attempts/s (wall)   per CPU-second");
        Console.WriteLine(string.Create(c, $"  per core (1 thread)            {r.PerCoreAttemptsPerSecond,17:N0}  {r.PerCoreAttemptsPerCpuSecond,15:N0}   target {r.TargetPerCore:N0}: {Verdict(r.TargetMet)} (wall), {Verdict(r.TargetMetPerCpuSecond)} (CPU)"));
        Console.WriteLine(string.Create(c, $"  total ({r.Threads} threads)             {r.TotalAttemptsPerSecond,17:N0}  {r.TotalAttemptsPerCpuSecond,15:N0}   {r.PerCoreInTotalRun:N0} per core (wall)"));
        foreach (var k in r.Kernels)
        {
            Console.WriteLine(string.Create(c, $"  kernel {k.Kernel,-16} x{k.Lanes,-2}    {k.AttemptsPerSecond,17:N0}  {k.AttemptsPerCpuSecond,15:N0}   (1 thread)"));
        }

        Console.WriteLine(string.Create(c, $"  cancellation latency {r.CancelLatencyMilliseconds:F3} ms (cancel to return, {r.Threads} threads)"));
        Console.WriteLine("compared per core (ratio wall / per CPU-second):");
        Console.WriteLine(string.Create(c, $"  .NET SHA256.HashData, {r.HeaderBytes} bytes  {r.DotnetHashDataPerSecond,17:N0}  {r.DotnetHashDataPerCpuSecond,15:N0}   x{r.RatioToDotnetHashData:F1} / x{r.RatioToDotnetHashDataPerCpuSecond:F1}   (measured)"));
        Console.WriteLine(string.Create(c, $"  the seed's Python miner        {r.SeedAttemptsPerSecond,17:N0}  {r.SeedAttemptsPerCpuSecond,15:N0}   x{r.RatioToSeed:F0} / x{r.RatioToSeedPerCpuSecond:F0}   ({r.SeedSource})"));
        Console.WriteLine(r.OpenSslCompressionsPerCpuSecond is { } ssl
            ? string.Create(c, $"  OpenSSL SHA-256 compressions   {"",17}  {ssl,15:N0}   - / x{r.RatioToOpenSslPerCpuSecond:F2}   ({r.OpenSslSource})")
            : $"  OpenSSL SHA-256: not measured ({r.OpenSslSource})");
        Console.WriteLine($"load average while measuring: {r.LoadAverage} ({r.ProcessorCount} processors)");
        Console.WriteLine($"({r.Note})");
    }

    private static string Verdict(bool met) => met ? "met" : "NOT met";

    private readonly record struct Rate(double PerSecond, double PerCpuSecond);

    /// <summary>One kernel's single-thread rate.</summary>
    private sealed record KernelFigure(string Kernel, int Lanes, double AttemptsPerSecond, double AttemptsPerCpuSecond);

    /// <summary>Figures of one `bench mine` run.</summary>
    private sealed record MineBenchResult(
        string Kernel,
        int Lanes,
        int HeaderBytes,
        int CompressionsPerAttempt,
        double PerCoreAttemptsPerSecond,
        double PerCoreAttemptsPerCpuSecond,
        int Threads,
        double TotalAttemptsPerSecond,
        double TotalAttemptsPerCpuSecond,
        double PerCoreInTotalRun,
        KernelFigure[] Kernels,
        double DotnetHashDataPerSecond,
        double DotnetHashDataPerCpuSecond,
        double RatioToDotnetHashData,
        double RatioToDotnetHashDataPerCpuSecond,
        double SeedAttemptsPerSecond,
        double SeedAttemptsPerCpuSecond,
        string SeedSource,
        double RatioToSeed,
        double RatioToSeedPerCpuSecond,
        double? OpenSslCompressionsPerCpuSecond,
        string OpenSslSource,
        double? RatioToOpenSslPerCpuSecond,
        double TargetPerCore,
        bool TargetMet,
        bool TargetMetPerCpuSecond,
        double CancelLatencyMilliseconds,
        int ProcessorCount,
        string LoadAverage,
        string Note);
}
