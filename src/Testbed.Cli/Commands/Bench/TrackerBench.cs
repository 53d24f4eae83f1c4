using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.Json;

using Testbed.Cli.Commands.Bench.Measurement;

namespace Testbed.Cli.Commands.Bench;

/// <summary>
/// `testbed bench tracker [--json]`: our tracker service (Testbed.Tracker.dll) and opentracker (whitelist mode) each
/// run as their own process on loopback and are driven by the same closed-loop load generator, like with like: HTTP
/// with one connection per announce for both, HTTP keep-alive for both when opentracker keeps connections alive (ours
/// alone, as an extra line, when it does not), UDP for both. Interleaved rounds; each sample gives the server's CPU
/// microseconds per announce (utime + stime from /proc/&lt;pid&gt;/stat) and announces per second; medians and ratios of medians.
/// </summary>
internal static class TrackerBench
{
    private const double TargetCpuRatio = 1.0;
    private const string CpuPerAnnounce = "server CPU us per announce";
    private const string PerSecond = "announces per second";
    private const string Ours = "testbed";
    private const string Theirs = "opentracker";

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the figures as JSON" };
        var seconds = new Option<int>("--seconds") { Description = "Measured seconds per sample (default 3)", DefaultValueFactory = _ => 3 };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients, each with one request in flight (default 16)", DefaultValueFactory = _ => 16 };
        var torrents = new Option<int>("--torrents") { Description = "Torrents (whitelisted for opentracker) (default 64)", DefaultValueFactory = _ => 64 };
        var peers = new Option<int>("--peers") { Description = "Simulated peers per torrent (default 250)", DefaultValueFactory = _ => 250 };
        var warmUp = new Option<int>("--warmup") { Description = "Warm-up seconds before the first sample of each side, for JIT tiering to settle (default 3; later samples warm up 1 s)", DefaultValueFactory = _ => 3 };
        var rounds = Interleaved.RoundsOption();
        var command = new Command("tracker", "Server CPU per announce and announces/s of our tracker vs opentracker: HTTP one connection per announce, HTTP keep-alive, UDP; interleaved rounds, medians");
        command.Options.Add(json);
        command.Options.Add(seconds);
        command.Options.Add(clients);
        command.Options.Add(torrents);
        command.Options.Add(peers);
        command.Options.Add(warmUp);
        command.Options.Add(rounds);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new Settings(
                parseResult.GetValue(seconds), parseResult.GetValue(clients), parseResult.GetValue(torrents), parseResult.GetValue(peers), parseResult.GetValue(warmUp), parseResult.GetValue(rounds));
            if (settings.Seconds is < 1 or > 600 || settings.WarmUp is < 0 or > 600 || settings.Clients is < 1 or > 256 || settings.Torrents is < 1 or > 10_000 || settings.PeersPerTorrent is < 1 or > 60_000)
            {
                await Console.Error.WriteLineAsync("error: --seconds 1..600, --warmup 0..600, --clients 1..256, --torrents 1..10000, --peers 1..60000").ConfigureAwait(false);
                return 2;
            }

            if (Interleaved.CheckRounds(settings.Rounds) is { } roundsError)
            {
                await Console.Error.WriteLineAsync(roundsError).ConfigureAwait(false);
                return 2;
            }

            var opentracker = FindOnPath("opentracker");
            if (opentracker is null)
            {
                await Console.Error.WriteLineAsync("error: opentracker is not installed (apt-get install opentracker)").ConfigureAwait(false);
                return 2;
            }

            var report = await RunAsync(settings, opentracker, parseResult.GetValue(json), cancellationToken).ConfigureAwait(false);
            return report.TargetMet ? 0 : 1;
        });
        return command;
    }

    private static async Task<Report> RunAsync(Settings settings, string opentrackerPath, bool json, CancellationToken cancellationToken)
    {
        var workload = new Workload(settings.Torrents, settings.PeersPerTorrent);
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
        Process? ourProcess = null;
        Process? theirProcess = null;
        try
        {
            ourProcess = StartOurs(ours);
            theirProcess = Start(opentrackerPath, directory.FullName, "-i", "127.0.0.1", "-p", Port(theirs.Http), "-P", Port(theirs.Udp), "-w", whitelist);
            await WaitReadyAsync(ours, workload, cancellationToken).ConfigureAwait(false);
            await WaitReadyAsync(theirs, workload, cancellationToken).ConfigureAwait(false);
            var theirsKeepAlive = KeepsAlive(theirs, workload);

            var failed = new Dictionary<string, long>();
            var sampled = new HashSet<string>();
            Side Side(Target target, Process process, Mode mode)
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

            var report = Report.From(settings, series, failed, theirsKeepAlive, OptimizedBuild());
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            }
            else
            {
                report.Print();
            }

            return report;
        }
        finally
        {
            Kill(ourProcess);
            Kill(theirProcess);
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
    private static bool KeepsAlive(Target target, Workload workload)
    {
        var request = new byte[1024];
        var response = new byte[16 * 1024];
        try
        {
            using var socket = Connect(target.Http);
            for (var i = 0; i < 2; i++)
            {
                var length = workload.WriteHttpRequest(request, i, target.Http, close: false);
                if (HttpExchange(socket, request.AsSpan(0, length), response, out var keepAlive) != HttpOutcome.Ok || (i == 0 && !keepAlive))
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

    private static RunResult Measure(Target target, Process server, Mode mode, Workload workload, Settings settings, int warmUpSeconds)
    {
        var counters = new Counters();
        var stop = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, settings.Clients).Select(i => new Thread(() =>
        {
            try
            {
                if (mode == Mode.Udp)
                {
                    UdpClientLoop(target.Udp, workload, i, counters, stop);
                }
                else
                {
                    HttpClientLoop(target.Http, workload, i, mode == Mode.HttpClose, counters, stop);
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

    private static void HttpClientLoop(IPEndPoint endpoint, Workload workload, int client, bool close, Counters counters, ManualResetEventSlim stop)
    {
        var request = new byte[1024];
        var response = new byte[16 * 1024];
        Socket? socket = null;
        var sequence = client;
        try
        {
            while (!stop.IsSet)
            {
                var reused = socket is not null;
                socket ??= Connect(endpoint);
                var length = workload.WriteHttpRequest(request, sequence, endpoint, close);
                var outcome = HttpExchange(socket, request.AsSpan(0, length), response, out var keepAlive);
                if (outcome == HttpOutcome.ClosedBeforeResponse && reused)
                {
                    // The server closed an idle keep-alive connection: retry on a new one, as any HTTP client does.
                    socket.Dispose();
                    socket = null;
                    continue;
                }

                sequence += 7919;
                Interlocked.Increment(ref outcome == HttpOutcome.Ok ? ref counters.Ok : ref counters.Failed);
                if (!keepAlive || outcome != HttpOutcome.Ok)
                {
                    socket.Dispose();
                    socket = null;
                }
            }
        }
        finally
        {
            socket?.Dispose();
        }
    }

    private static Socket Connect(IPEndPoint endpoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 5000, SendTimeout = 5000 };
        // Closing with RST keeps thousands of short-lived connections from piling up in TIME_WAIT.
        socket.LingerState = new LingerOption(true, 0);
        socket.Connect(endpoint);
        return socket;
    }

    private static HttpOutcome HttpExchange(Socket socket, ReadOnlySpan<byte> request, byte[] response, out bool keepAlive)
    {
        keepAlive = false;
        var filled = 0;
        try
        {
            socket.Send(request);
            var headerEnd = -1;
            while (headerEnd < 0)
            {
                var read = socket.Receive(response.AsSpan(filled));
                if (read == 0)
                {
                    return filled == 0 ? HttpOutcome.ClosedBeforeResponse : HttpOutcome.Failed;
                }

                filled += read;
                headerEnd = response.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
                if (headerEnd < 0 && filled == response.Length)
                {
                    return HttpOutcome.Failed;
                }
            }

            var head = Encoding.ASCII.GetString(response, 0, headerEnd);
            var contentLength = -1;
            var closes = head.StartsWith("HTTP/1.0", StringComparison.Ordinal);
            foreach (var line in head.Split("\r\n"))
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                {
                    contentLength = int.Parse(line.AsSpan(15).Trim(), CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase))
                {
                    closes = line.Contains("close", StringComparison.OrdinalIgnoreCase);
                }
            }

            var bodyStart = headerEnd + 4;
            var bodyEnd = contentLength >= 0 ? bodyStart + contentLength : -1;
            if (bodyEnd > response.Length)
            {
                return HttpOutcome.Failed;
            }

            while (bodyEnd < 0 || filled < bodyEnd)
            {
                var read = socket.Receive(response.AsSpan(filled));
                if (read == 0)
                {
                    if (bodyEnd < 0)
                    {
                        bodyEnd = filled;
                        closes = true;
                        break;
                    }

                    return HttpOutcome.Failed;
                }

                filled += read;
            }

            keepAlive = !closes && contentLength >= 0;
            var body = response.AsSpan(bodyStart, bodyEnd - bodyStart);
            var ok = head.StartsWith("HTTP/1.", StringComparison.Ordinal) && head.AsSpan(9, 3).SequenceEqual("200") &&
                     body.StartsWith("d"u8) && body.IndexOf("5:peers"u8) >= 0 && body.IndexOf("failure reason"u8) < 0;
            return ok ? HttpOutcome.Ok : HttpOutcome.Failed;
        }
        catch (SocketException)
        {
            // A reset before any byte of the answer is the server having closed the connection.
            return filled == 0 ? HttpOutcome.ClosedBeforeResponse : HttpOutcome.Failed;
        }
    }

    private static void UdpClientLoop(IPEndPoint endpoint, Workload workload, int client, Counters counters, ManualResetEventSlim stop)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
        socket.Connect(endpoint);
        var packet = new byte[128];
        var reply = new byte[2048];
        var transaction = client << 20;
        var sequence = client;
        ulong? connectionId = null;
        var connectedAt = Stopwatch.StartNew();
        while (!stop.IsSet)
        {
            if (connectionId is null || connectedAt.Elapsed > TimeSpan.FromSeconds(50))
            {
                connectionId = UdpConnect(socket, ++transaction, reply);
                connectedAt.Restart();
                if (connectionId is null)
                {
                    Interlocked.Increment(ref counters.Failed);
                    continue;
                }
            }

            var length = workload.WriteUdpAnnounce(packet, connectionId.Value, ++transaction, sequence);
            sequence += 7919;
            var ok = UdpExchange(socket, packet.AsSpan(0, length), transaction, reply, out var action) && action == 1;
            if (!ok)
            {
                connectionId = null;
            }

            Interlocked.Increment(ref ok ? ref counters.Ok : ref counters.Failed);
        }
    }

    private static ulong? UdpConnect(Socket socket, int transaction, byte[] reply)
    {
        Span<byte> packet = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(packet, 0x41727101980);
        BinaryPrimitives.WriteInt32BigEndian(packet[8..], 0);
        BinaryPrimitives.WriteInt32BigEndian(packet[12..], transaction);
        return UdpExchange(socket, packet, transaction, reply, out var action) && action == 0
            ? BinaryPrimitives.ReadUInt64BigEndian(reply.AsSpan(8))
            : null;
    }

    private static bool UdpExchange(Socket socket, ReadOnlySpan<byte> packet, int transaction, byte[] reply, out int action)
    {
        action = -1;
        try
        {
            socket.Send(packet);
            while (true)
            {
                var read = socket.Receive(reply);
                if (read < 8)
                {
                    continue;
                }

                if (BinaryPrimitives.ReadInt32BigEndian(reply.AsSpan(4)) != transaction)
                {
                    continue; // a late answer to an earlier, timed-out request
                }

                action = BinaryPrimitives.ReadInt32BigEndian(reply);
                return action != 3 && read >= (action == 1 ? 20 : 16);
            }
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Starts the tracker service as it is deployed: Testbed.Tracker.dll (copied next to testbed.dll) in a process of its own.</summary>
    private static Process StartOurs(Target target)
    {
        var service = Path.Combine(AppContext.BaseDirectory, "Testbed.Tracker.dll");
        if (!File.Exists(service))
        {
            throw new InvalidOperationException($"the tracker service {service} is missing (build src/Testbed.Cli)");
        }

        var host = Environment.ProcessPath is { } path && string.Equals(Path.GetFileNameWithoutExtension(path), "dotnet", StringComparison.OrdinalIgnoreCase)
            ? path
            : FindOnPath("dotnet") ?? throw new InvalidOperationException("cannot locate the dotnet host to run the tracker service");
        // The service's own runtime settings apply (TieredPGO off in Testbed.Tracker.csproj, via its runtimeconfig.json).
        return Start(host, AppContext.BaseDirectory, service, "--urls", $"http://{target.Http}", "--Tracker:Udp", target.Udp.ToString());
    }

    private static Process Start(string fileName, string workingDirectory, params string[] arguments) =>
        Start(fileName, workingDirectory, new Dictionary<string, string>(), arguments);

    private static Process Start(string fileName, string workingDirectory, Dictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Console logging of every line would measure the console, not the tracker.
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitReadyAsync(Target target, Workload workload, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var request = new byte[1024];
        var response = new byte[16 * 1024];
        while (true)
        {
            try
            {
                using var socket = Connect(target.Http);
                var length = workload.WriteHttpRequest(request, 0, target.Http, close: true);
                using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 500 };
                udp.Connect(target.Udp);
                if (HttpExchange(socket, request.AsSpan(0, length), response, out _) == HttpOutcome.Ok && UdpConnect(udp, 1, response) is not null)
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

    private static void Kill(Process? process)
    {
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.Dispose();
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

    private enum HttpOutcome
    {
        Ok,
        Failed,
        ClosedBeforeResponse,
    }

    internal sealed record Settings(int Seconds, int Clients, int Torrents, int PeersPerTorrent, int WarmUp, int Rounds);

    private enum Mode
    {
        HttpClose,
        HttpKeepAlive,
        Udp,
    }

    private sealed record Target(string Name, IPEndPoint Http, IPEndPoint Udp);

    private sealed class Counters
    {
        public long Ok;
        public long Failed;
    }

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
                series, ratios, limits, failed.Select(f => new FailedAnnounces(f.Key, f.Value)).ToArray(), TrackerBench.TargetCpuRatio,
                cpuRatios.All(r => r.Value > 0 && r.Value <= TrackerBench.TargetCpuRatio) && failedOurs == 0);
        }

        public void Print()
        {
            Console.WriteLine($"bench tracker: loopback, {Environment.ProcessorCount} cores shared by {Clients} closed-loop client threads and the server; {Workload}; {Rounds} rounds, interleaved ({Order}); {Seconds} s per sample after {WarmUpSeconds} s warm-up (1 s in later rounds)");
            if (!OptimizedBuild)
            {
                Console.WriteLine("warning: Debug build (unoptimized JIT); run with -c Release for meaningful figures");
            }

            Console.WriteLine($"keep-alive: {KeepAliveNote}");
            foreach (var unit in new[] { CpuPerAnnounce, PerSecond })
            {
                foreach (var s in Series.Where(s => s.Unit == unit))
                {
                    Console.WriteLine(s.Line(48));
                }
            }

            foreach (var ratio in Ratios)
            {
                Console.WriteLine(ratio.Line());
            }

            foreach (var limit in Limits)
            {
                Console.WriteLine(limit.Line());
            }

            Console.WriteLine($"failed announces: {string.Join(", ", Failed.Select(f => $"{f.Side} {f.Failed}"))}");
            Console.WriteLine($"target: our server CPU per announce <= {TargetCpuRatio:F1}x opentracker's (median, HTTP one connection per announce and UDP), no failed announce of ours: {(TargetMet ? "met" : "NOT met")}");
        }
    }

    /// <summary>The announces every client sends: the same torrents, peers and parameters for both trackers.</summary>
    private sealed class Workload
    {
        private readonly string[] escapedHashes;
        private readonly int peersPerTorrent;

        public Workload(int torrents, int peersPerTorrent)
        {
            this.peersPerTorrent = peersPerTorrent;
            var random = new Random(20_260_101);
            InfoHashes = Enumerable.Range(0, torrents).Select(_ =>
            {
                var hash = new byte[20];
                random.NextBytes(hash);
                return hash;
            }).ToArray();
            escapedHashes = InfoHashes.Select(h => string.Concat(h.Select(b => "%" + b.ToString("X2", CultureInfo.InvariantCulture)))).ToArray();
        }

        public byte[][] InfoHashes { get; }

        public int WriteHttpRequest(byte[] destination, int sequence, IPEndPoint host, bool close)
        {
            var connectionHeader = close ? "Connection: close\r\n" : "";
            var (torrent, peer) = Pick(sequence);
            var text = $"GET /announce?info_hash={escapedHashes[torrent]}&peer_id=-BT0001-{torrent:D4}{peer:D8}&port={10_000 + peer}&uploaded=0&downloaded=0&left={Left(peer)}&numwant=50&compact=1&no_peer_id=1 HTTP/1.1\r\nHost: {host}\r\n{connectionHeader}\r\n";
            return Encoding.ASCII.GetBytes(text, destination);
        }

        public int WriteUdpAnnounce(byte[] destination, ulong connectionId, int transaction, int sequence)
        {
            var (torrent, peer) = Pick(sequence);
            var packet = destination.AsSpan(0, 98);
            packet.Clear();
            BinaryPrimitives.WriteUInt64BigEndian(packet, connectionId);
            BinaryPrimitives.WriteInt32BigEndian(packet[8..], 1);
            BinaryPrimitives.WriteInt32BigEndian(packet[12..], transaction);
            InfoHashes[torrent].CopyTo(packet[16..]);
            Encoding.ASCII.GetBytes($"-BT0001-{torrent:D4}{peer:D8}", packet[36..]);
            BinaryPrimitives.WriteInt64BigEndian(packet[64..], Left(peer));
            BinaryPrimitives.WriteInt32BigEndian(packet[92..], 50);
            BinaryPrimitives.WriteUInt16BigEndian(packet[96..], (ushort)(10_000 + peer));
            return 98;
        }

        private (int Torrent, int Peer) Pick(int sequence)
        {
            var n = (uint)sequence;
            return ((int)(n % (uint)InfoHashes.Length), (int)(n / (uint)InfoHashes.Length % (uint)peersPerTorrent));
        }

        private static long Left(int peer) => peer % 5 == 0 ? 0 : 65_536;
    }
}
