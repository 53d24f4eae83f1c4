using System.Net;
using System.Net.Sockets;
using System.Reflection;

using Testbed.Processes;

namespace Testbed.Bench;

/// <summary>
/// `testbed-bench tracker [--json]`: our tracker service (Testbed.Tracker.dll) and opentracker (whitelist mode) each
/// run as their own process on loopback and are driven by the same closed-loop load generator, like with like: HTTP
/// with one connection per announce for both, HTTP keep-alive for both when opentracker keeps connections alive (ours
/// alone, as an extra line, when it does not), UDP for both. Interleaved rounds; each sample gives the server's CPU
/// microseconds per announce (utime + stime from /proc/&lt;pid&gt;/stat) and announces per second; medians and ratios of medians.
/// </summary>
internal static class TrackerBench
{
    private static readonly BenchTarget CpuRatioTarget = BenchTarget.AtMost(1.0);
    private const string CpuPerAnnounce = "server CPU us per announce";
    private const string PerSecond = "announces per second";
    private const string Ours = "testbed";
    private const string Theirs = "opentracker";

    public static Command Create()
    {
        var shared = new BenchOptions();
        var seconds = new Option<int>("--seconds") { Description = "Measured seconds per sample (default 3)", DefaultValueFactory = _ => 3 };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients, each with one request in flight (default 16)", DefaultValueFactory = _ => 16 };
        var torrents = new Option<int>("--torrents") { Description = "Torrents (whitelisted for opentracker) (default 64)", DefaultValueFactory = _ => 64 };
        var peers = new Option<int>("--peers") { Description = "Simulated peers per torrent (default 250)", DefaultValueFactory = _ => 250 };
        var warmUp = new Option<int>("--warmup") { Description = "Warm-up seconds before the first sample of each side, for JIT tiering to settle (default 3; later samples warm up 1 s)", DefaultValueFactory = _ => 3 };
        var command = new Command("tracker", "Server CPU per announce and announces/s of our tracker vs opentracker: HTTP one connection per announce, HTTP keep-alive, UDP; interleaved rounds, medians")
        {
            shared.Json,
            seconds,
            clients,
            torrents,
            peers,
            warmUp,
            shared.Rounds,
        };
        shared.SetAction(
            command,
            parseResult => (Settings: new Settings(
                parseResult.GetValue(seconds), parseResult.GetValue(clients), parseResult.GetValue(torrents), parseResult.GetValue(peers), parseResult.GetValue(warmUp), parseResult.GetValue(shared.Rounds)),
                Opentracker: FindOnPath("opentracker")),
            run => run.Settings.Error(),
            (run, cancellationToken) => RunAsync(run.Settings, run.Opentracker!, cancellationToken),
            report => report.Print(),
            report => report.TargetMet,
            BenchFigures.IndentedJson,
            checkLast: run => run.Opentracker is null ? "error: opentracker is not installed (apt-get install opentracker)" : null);
        return command;
    }

    private static async Task<Report> RunAsync(Settings settings, string opentrackerPath, CancellationToken cancellationToken)
    {
        var workload = new AnnounceWorkload(settings.Torrents, settings.PeersPerTorrent);
        var directory = Directory.CreateTempSubdirectory("tracker-bench-");
        // opentracker drops to user nobody and changes to / before reading its whitelist.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        var whitelist = Path.Combine(directory.FullName, "whitelist.txt");
        await File.WriteAllLinesAsync(whitelist, workload.InfoHashes.Select(h => Convert.ToHexStringLower(h)), cancellationToken).ConfigureAwait(false);
        var ours = new Target(Ours, new IPEndPoint(IPAddress.Loopback, FreeTcpPort()), new IPEndPoint(IPAddress.Loopback, FreeUdpPort()));
        var theirs = new Target(Theirs, new IPEndPoint(IPAddress.Loopback, FreeTcpPort()), new IPEndPoint(IPAddress.Loopback, FreeUdpPort()));
        ChildProcess? ourProcess = null;
        ChildProcess? theirProcess = null;
        try
        {
            ourProcess = StartOurs(ours);
            theirProcess = Start(opentrackerPath, directory.FullName, "-i", "127.0.0.1", "-p", Port(theirs.Http), "-P", Port(theirs.Udp), "-w", whitelist);
            await WaitReadyAsync(ours, workload, cancellationToken).ConfigureAwait(false);
            await WaitReadyAsync(theirs, workload, cancellationToken).ConfigureAwait(false);
            var theirsKeepAlive = KeepsAlive(theirs, workload);

            var failed = new Dictionary<string, long>();
            var sampled = new HashSet<string>();
            Side Side(Target target, ChildProcess process, Mode mode)
            {
                var name = $"{target.Name}, {ModeName(mode)}";
                failed[name] = 0;
                return new Side(name, [CpuPerAnnounce, PerSecond], token => Task.Run(() =>
                {
                    var warmUp = sampled.Add(name) ? settings.WarmUp : Math.Min(settings.WarmUp, 1);
                    var run = Measure(target, process, mode, workload, settings, warmUp);
                    failed[name] += run.Failed;
                    return new[] { run.CpuMicrosecondsPerAnnounce, run.AnnouncesPerSecond };
                }, token));
            }

            var sides = new List<Side> { Side(ours, ourProcess, Mode.HttpClose), Side(theirs, theirProcess, Mode.HttpClose), Side(ours, ourProcess, Mode.HttpKeepAlive) };
            if (theirsKeepAlive)
            {
                sides.Add(Side(theirs, theirProcess, Mode.HttpKeepAlive));
            }

            sides.Add(Side(ours, ourProcess, Mode.Udp));
            sides.Add(Side(theirs, theirProcess, Mode.Udp));
            var series = await Interleaved.RunAsync(settings.Rounds, sides, cancellationToken).ConfigureAwait(false);

            return Report.From(settings, series, failed, theirsKeepAlive, OptimizedBuild());
        }
        finally
        {
            ourProcess?.Dispose();
            theirProcess?.Dispose();
            try
            {
                directory.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS to clean.
            }
        }
    }

    private static string ModeName(Mode mode) => mode switch
    {
        Mode.HttpClose => "http, one connection per announce",
        Mode.HttpKeepAlive => "http, keep-alive",
        _ => "udp",
    };

    /// <summary>Two announces on one connection that asks to be kept alive: does the server answer the second?</summary>
    private static bool KeepsAlive(Target target, AnnounceWorkload workload)
    {
        var request = new byte[1024];
        var response = new byte[16 * 1024];
        try
        {
            using var socket = AnnounceLoad.Connect(target.Http);
            for (var i = 0; i < 2; i++)
            {
                var length = workload.WriteHttpRequest(request, i, target.Http, close: false);
                if (AnnounceLoad.HttpExchange(socket, request.AsSpan(0, length), response, out var keepAlive) != AnnounceLoad.HttpOutcome.Ok || (i == 0 && !keepAlive))
                {
                    return false;
                }
            }

            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static RunResult Measure(Target target, ChildProcess server, Mode mode, AnnounceWorkload workload, Settings settings, int warmUpSeconds)
    {
        var counters = new AnnounceCounters();
        var stop = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, settings.Clients).Select(i => new Thread(() =>
        {
            try
            {
                if (mode == Mode.Udp)
                {
                    AnnounceLoad.UdpClientLoop(target.Udp, workload, i, counters, stop);
                }
                else
                {
                    AnnounceLoad.HttpClientLoop(target.Http, workload, i, mode == Mode.HttpClose, counters, stop);
                }
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                Interlocked.Increment(ref counters.Failed);
            }
        })
        { IsBackground = true, Name = $"bench-{mode}-{i}" }).ToList();

        threads.ForEach(t => t.Start());
        // Warm-up: JIT tiering (whose background compiles would otherwise be billed to the run), connections, swarms filled.
        Thread.Sleep(TimeSpan.FromSeconds(warmUpSeconds));
        var startCpu = ProcessCpu.Microseconds(server.Id);
        var startOk = Interlocked.Read(ref counters.Ok);
        var startFailed = Interlocked.Read(ref counters.Failed);
        var clock = Stopwatch.StartNew();
        Thread.Sleep(TimeSpan.FromSeconds(settings.Seconds));
        var endOk = Interlocked.Read(ref counters.Ok);
        var endFailed = Interlocked.Read(ref counters.Failed);
        var elapsed = clock.Elapsed.TotalSeconds;
        var cpu = ProcessCpu.Microseconds(server.Id) - startCpu;
        stop.Set();
        foreach (var thread in threads)
        {
            thread.Join(TimeSpan.FromSeconds(10));
        }

        var announces = endOk - startOk;
        return new RunResult(announces / elapsed, endFailed - startFailed, announces > 0 ? cpu / announces : 0);
    }

    /// <summary>Starts the tracker service as it is deployed: Testbed.Tracker.dll (copied next to testbed-bench.dll) in a process of its own.</summary>
    private static ChildProcess StartOurs(Target target)
    {
        var service = Path.Combine(AppContext.BaseDirectory, "Testbed.Tracker.dll");
        if (!File.Exists(service))
        {
            throw new InvalidOperationException($"the tracker service {service} is missing (build bench/Testbed.Bench)");
        }

        var host = Environment.ProcessPath is { } path && string.Equals(Path.GetFileNameWithoutExtension(path), "dotnet", StringComparison.OrdinalIgnoreCase)
            ? path
            : FindOnPath("dotnet") ?? throw new InvalidOperationException("cannot locate the dotnet host to run the tracker service");
        // The service's own runtime settings apply (TieredPGO off in Testbed.Tracker.csproj, via its runtimeconfig.json).
        return Start(host, AppContext.BaseDirectory, service, "--urls", $"http://{target.Http}", "--Tracker:Udp", target.Udp.ToString());
    }

    // Console logging of every line would measure the console, not the tracker.
    private static ChildProcess Start(string fileName, string workingDirectory, params string[] arguments) =>
        ChildProcess.Start(fileName, arguments, new ChildProcessOptions { WorkingDirectory = workingDirectory, Environment = new Dictionary<string, string?> { ["Logging__LogLevel__Default"] = "Warning" } });

    private static async Task WaitReadyAsync(Target target, AnnounceWorkload workload, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var request = new byte[1024];
        var response = new byte[16 * 1024];
        while (true)
        {
            try
            {
                using var socket = AnnounceLoad.Connect(target.Http);
                var length = workload.WriteHttpRequest(request, 0, target.Http, close: true);
                using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 500 };
                udp.Connect(target.Udp);
                if (AnnounceLoad.HttpExchange(socket, request.AsSpan(0, length), response, out _) == AnnounceLoad.HttpOutcome.Ok && AnnounceLoad.UdpConnect(udp, 1, response) is not null)
                {
                    return;
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{target.Name} did not answer announces on {target.Http} and {target.Udp} within 60 s");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool OptimizedBuild() =>
        typeof(Testbed.Tracker.Hosting.TrackerOptions).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/usr/sbin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin").Append("/usr/bin")
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static string Port(IPEndPoint endpoint) => endpoint.Port.ToString(CultureInfo.InvariantCulture);

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    internal sealed record Settings(int Seconds, int Clients, int Torrents, int PeersPerTorrent, int WarmUp, int Rounds)
    {
        /// <summary>The one-line error for the bench's own options out of range (--rounds is checked by <see cref="BenchOptions"/>), or null.</summary>
        public string? Error() =>
            this is { Seconds: < 1 or > 600 } or { WarmUp: < 0 or > 600 } or { Clients: < 1 or > 256 } or { Torrents: < 1 or > 10_000 } or { PeersPerTorrent: < 1 or > 60_000 }
                ? "error: --seconds 1..600, --warmup 0..600, --clients 1..256, --torrents 1..10000, --peers 1..60000"
                : null;
    }

    private enum Mode
    {
        HttpClose,
        HttpKeepAlive,
        Udp,
    }

    private sealed record Target(string Name, IPEndPoint Http, IPEndPoint Udp);

    /// <summary>One measured window.</summary>
    private sealed record RunResult(double AnnouncesPerSecond, long Failed, double CpuMicrosecondsPerAnnounce);

    /// <summary>Failed announces of one side over all its samples.</summary>
    internal sealed record FailedAnnounces(string Side, long Failed);

    /// <summary>The figures, the ratios of medians, the limits and whether the target was met.</summary>
    internal sealed record Report(
        string Workload, int Clients, int Seconds, int WarmUpSeconds, bool OptimizedBuild, int Rounds, string Order,
        bool OpentrackerKeepsAlive, string KeepAliveNote, IReadOnlyList<Series> Series, IReadOnlyList<Ratio> Ratios,
        IReadOnlyList<Limit> Limits, IReadOnlyList<FailedAnnounces> Failed, double TargetCpuRatio, bool TargetMet)
    {
        public static Report From(Settings settings, IReadOnlyList<Series> series, Dictionary<string, long> failed, bool theirsKeepAlive, bool optimized)
        {
            var compared = theirsKeepAlive ? new[] { Mode.HttpClose, Mode.HttpKeepAlive, Mode.Udp } : [Mode.HttpClose, Mode.Udp];
            var ratios = new List<Ratio>();
            var limits = new List<Limit>();
            foreach (var mode in compared)
            {
                var name = ModeName(mode);
                var theirsCpu = series.Find($"{Theirs}, {name}", CpuPerAnnounce);
                ratios.Add(Ratio.Of(series.Find($"{Ours}, {name}", CpuPerAnnounce), theirsCpu));
                ratios.Add(Ratio.Of(series.Find($"{Ours}, {name}", PerSecond), series.Find($"{Theirs}, {name}", PerSecond)));
                limits.Add(new Limit($"opentracker's server CPU per announce, {name} (the anchor the target divides by)", theirsCpu));
            }

            var cpuRatios = ratios.Where(r => r.Unit == CpuPerAnnounce && !r.Numerator.Contains("keep-alive", StringComparison.Ordinal)).ToList();
            var failedOurs = failed.Where(f => f.Key.StartsWith(Ours, StringComparison.Ordinal)).Sum(f => f.Value);
            return new Report(
                $"{settings.Torrents} torrents x {settings.PeersPerTorrent} peers, numwant 50, compact",
                settings.Clients, settings.Seconds, settings.WarmUp, optimized, settings.Rounds,
                "each round runs every side once; the order is reversed every other round",
                theirsKeepAlive,
                theirsKeepAlive
                    ? "opentracker answered a second announce on a kept-alive connection: keep-alive is compared for both"
                    : "opentracker closes every HTTP connection after its answer, even when asked to keep it alive (probed in this run): our keep-alive figure is an extra line, not compared",
                series, ratios, limits, failed.Select(f => new FailedAnnounces(f.Key, f.Value)).ToArray(), CpuRatioTarget.Goal,
                cpuRatios.All(r => r.Value > 0 && CpuRatioTarget.MetBy(r.Value)) && failedOurs == 0);
        }

        public void Print()
        {
            Console.WriteLine($"bench tracker: loopback, {Environment.ProcessorCount} cores shared by {Clients} closed-loop client threads and the server; {Workload}; {Rounds} rounds, interleaved ({Order}); {Seconds} s per sample after {WarmUpSeconds} s warm-up (1 s in later rounds)");
            if (!OptimizedBuild)
            {
                Console.WriteLine("warning: Debug build (unoptimized JIT); run with -c Release for meaningful figures");
            }

            Console.WriteLine($"keep-alive: {KeepAliveNote}");
            Interleaved.Print(Series, [CpuPerAnnounce, PerSecond], Ratios, Limits, sideWidth: 48);
            Console.WriteLine($"failed announces: {string.Join(", ", Failed.Select(f => $"{f.Side} {f.Failed}"))}");
            Console.WriteLine($"target: our server CPU per announce <= {TargetCpuRatio:F1}x opentracker's (median, HTTP one connection per announce and UDP), no failed announce of ours: {BenchFigures.Verdict(TargetMet)}");
        }
    }
}
