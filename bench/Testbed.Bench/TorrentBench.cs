using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Testbed.Processes;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.Sessions;

namespace Testbed.Bench;

/// <summary>
/// `testbed bench torrent`: the same file over loopback ours→ours and libtorrent→libtorrent (TCP only), each pair in
/// one process, in one run: throughput, the ratio, and CPU seconds per GiB (process CPU time during the transfer); once as
/// a v1 torrent and once as a v2-only (BEP 52) torrent of the same file, where every piece is checked by its merkle root.
/// </summary>
internal static class TorrentBench
{
    private const string LibtorrentScript = """
        import json, resource, sys, time
        import libtorrent as lt
        torrent, source, target = sys.argv[1], sys.argv[2], sys.argv[3]
        base = {'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
                'enable_outgoing_utp': False, 'enable_incoming_utp': False, 'allow_multiple_connections_per_ip': True}
        seeder = lt.session(dict(base, listen_interfaces='127.0.0.1:0'))
        leecher = lt.session(dict(base, listen_interfaces='127.0.0.1:0'))
        info = lt.torrent_info(torrent)
        seed = seeder.add_torrent({'ti': info, 'save_path': source})
        while not seed.status().is_seeding:
            time.sleep(0.01)
        def cpu():
            r = resource.getrusage(resource.RUSAGE_SELF)
            return r.ru_utime + r.ru_stime
        cpu0, t0 = cpu(), time.perf_counter()
        get = leecher.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': target})
        get.connect_peer(('127.0.0.1', seeder.listen_port()))
        deadline = t0 + 600
        while not get.status().is_seeding:
            if time.perf_counter() > deadline:
                print(json.dumps({'error': 'timeout', 'progress': get.status().progress}))
                sys.exit(1)
            time.sleep(0.002)
        print(json.dumps({'seconds': time.perf_counter() - t0, 'cpu': cpu() - cpu0, 'version': lt.__version__}))
        """;

    public static Command Create()
    {
        var size = new Option<int>("--size") { Description = "File size in MiB", DefaultValueFactory = _ => 256 };
        var pieceLength = new Option<int?>("--piece-length") { Description = "Piece length in bytes (default: automatic)" };
        var json = new Option<bool>("--json") { Description = "Print the figures as JSON" };
        var skipLibtorrent = new Option<bool>("--skip-libtorrent") { Description = "Measure only ours (no anchor: the ratio is omitted)" };
        var skipV2 = new Option<bool>("--skip-v2") { Description = "Measure only the v1 torrent (no BEP 52 line)" };
        var command = new Command("torrent", "Move one file over loopback, ours→ours and libtorrent→libtorrent; throughput, ratio, CPU s/GiB");
        command.Options.Add(size);
        command.Options.Add(pieceLength);
        command.Options.Add(json);
        command.Options.Add(skipLibtorrent);
        command.Options.Add(skipV2);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var mib = parseResult.GetValue(size);
            if (mib is < 1 or > 16384)
            {
                await Console.Error.WriteLineAsync("error: --size must be between 1 and 16384 MiB").ConfigureAwait(false);
                return 2;
            }

            var root = Path.Combine(Path.GetTempPath(), "testbed-bench-torrent-" + Guid.NewGuid().ToString("n")[..8]);
            try
            {
                var source = Directory.CreateDirectory(Path.Combine(root, "source")).FullName;
                var file = Path.Combine(source, "bench.bin");
                await WriteRandomFileAsync(file, (long)mib << 20, cancellationToken).ConfigureAwait(false);
                var torrent = await TorrentCreator.CreateFromPathAsync(file, new TorrentCreateOptions { PieceLength = parseResult.GetValue(pieceLength) }, cancellationToken).ConfigureAwait(false);
                var torrentFile = Path.Combine(root, "bench.torrent");
                await File.WriteAllBytesAsync(torrentFile, torrent.Dictionary.Encode(), cancellationToken).ConfigureAwait(false);

                // A small warm-up so the JIT and the thread pool are not billed to the measured run.
                await RunOursAsync(torrent, source, Path.Combine(root, "warm"), warmUpBytes: 16 << 20, cancellationToken).ConfigureAwait(false);
                var v1 = await MeasurePairAsync(root, "v1", torrent, torrentFile, source, parseResult.GetValue(skipLibtorrent), cancellationToken).ConfigureAwait(false);
                if (v1 is null)
                {
                    return 1;
                }

                Pair? v2 = null;
                if (!parseResult.GetValue(skipV2))
                {
                    // The same file as a v2-only torrent: the piece length must be a power of two of at least 16 KiB.
                    var v2PieceLength = MerkleTree.IsPieceLength(torrent.Info.PieceLength) ? torrent.Info.PieceLength : (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(MerkleTree.BlockSize, torrent.Info.PieceLength));
                    var v2Torrent = await TorrentCreator.CreateFromPathAsync(file, new TorrentCreateOptions { PieceLength = v2PieceLength, Version = TorrentVersion.V2 }, cancellationToken).ConfigureAwait(false);
                    var v2File = Path.Combine(root, "bench-v2.torrent");
                    await File.WriteAllBytesAsync(v2File, v2Torrent.ToBytes(), cancellationToken).ConfigureAwait(false);
                    v2 = await MeasurePairAsync(root, "v2", v2Torrent, v2File, source, parseResult.GetValue(skipLibtorrent), cancellationToken).ConfigureAwait(false);
                    if (v2 is null)
                    {
                        return 1;
                    }
                }

                Report(v1, v2, parseResult.GetValue(json));
                return 0;
            }
            finally
            {
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        });
        return command;
    }

    /// <summary>One torrent moved by us and by libtorrent (null when skipped).</summary>
    private sealed record Pair(TorrentInfo Info, Measurement Ours, Measurement? Theirs)
    {
        public double? Ratio => Theirs is null ? null : Ours.MegabytesPerSecond / Theirs.MegabytesPerSecond;
    }

    private static async Task<Pair?> MeasurePairAsync(string root, string label, TorrentMetainfo torrent, string torrentFile, string source, bool skipLibtorrent, CancellationToken cancellationToken)
    {
        var ours = await RunOursAsync(torrent, source, Path.Combine(root, "ours-" + label), warmUpBytes: null, cancellationToken).ConfigureAwait(false);
        Directory.Delete(Path.Combine(root, "ours-" + label), recursive: true);
        Measurement? theirs = null;
        if (!skipLibtorrent)
        {
            theirs = await RunLibtorrentAsync(root, torrentFile, source, cancellationToken).ConfigureAwait(false);
            if (theirs is null)
            {
                return null;
            }

            Directory.Delete(Path.Combine(root, "libtorrent"), recursive: true);
        }

        return new Pair(torrent.Info, ours, theirs);
    }

    private sealed record Measurement(string Name, long Bytes, double Seconds, double CpuSeconds)
    {
        public double MegabytesPerSecond => Bytes / 1e6 / Seconds;

        public double CpuSecondsPerGiB => CpuSeconds / (Bytes / (double)(1L << 30));
    }

    private static async Task WriteRandomFileAsync(string path, long length, CancellationToken cancellationToken)
    {
        var random = new Random(20261124);
        var chunk = new byte[1 << 20];
        await using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        for (long written = 0; written < length; written += chunk.Length)
        {
            random.NextBytes(chunk);
            await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, length - written)), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<Measurement> RunOursAsync(TorrentMetainfo torrent, string source, string target, long? warmUpBytes, CancellationToken cancellationToken)
    {
        var info = torrent.Info;
        Directory.CreateDirectory(target);
        await using var seeder = new TorrentClient(new TorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        var seed = seeder.Add(info, source, new TorrentSessionOptions { UseTrackers = false }, pieceLayers: torrent.PieceLayers);
        await seed.StartAsync(cancellationToken).ConfigureAwait(false);
        await using var leecher = new TorrentClient(new TorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        var get = leecher.Add(info, target, new TorrentSessionOptions { UseTrackers = false }, pieceLayers: torrent.PieceLayers);
        await get.StartAsync(cancellationToken).ConfigureAwait(false);

        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        get.AddPeer(seeder.LocalEndPoint!);
        if (warmUpBytes is { } bytes)
        {
            while (get.Progress.BytesDownloaded < bytes && !get.IsComplete)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }

            return new Measurement("warm-up", bytes, clock.Elapsed.TotalSeconds, 0);
        }

        await get.WaitForCompletionAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        clock.Stop();
        process.Refresh();
        return new Measurement("ours", info.TotalLength, clock.Elapsed.TotalSeconds, (process.TotalProcessorTime - cpu0).TotalSeconds);
    }

    private static async Task<Measurement?> RunLibtorrentAsync(string root, string torrentFile, string source, CancellationToken cancellationToken)
    {
        var script = Path.Combine(root, "lt_bench.py");
        await File.WriteAllTextAsync(script, LibtorrentScript, cancellationToken).ConfigureAwait(false);
        var target = Directory.CreateDirectory(Path.Combine(root, "libtorrent")).FullName;
        var run = await ChildProcess.RunAsync("/usr/bin/python3", [script, torrentFile, source, target], TimeSpan.FromMinutes(11), cancellationToken: cancellationToken).ConfigureAwait(false);
        var line = run.StandardOutput.Trim().Split('\n')[^1];
        if (run.ExitCode != 0 || string.IsNullOrEmpty(line))
        {
            await Console.Error.WriteLineAsync($"error: the libtorrent run failed (python3-libtorrent installed?): {line} {run.StandardError}").ConfigureAwait(false);
            return null;
        }

        var result = JsonNode.Parse(line)!;
        var bytes = (await TorrentMetainfo.LoadFileAsync(torrentFile, cancellationToken).ConfigureAwait(false)).Info.TotalLength;
        return new Measurement($"libtorrent {result["version"]}", bytes, (double)result["seconds"]!, (double)result["cpu"]!);
    }

    private static void Report(Pair v1, Pair? v2, bool json)
    {
        if (json)
        {
            var document = new JsonObject
            {
                ["bytes"] = v1.Info.TotalLength,
                ["piece_length"] = v1.Info.PieceLength,
                ["ours"] = Describe(v1.Ours),
                ["libtorrent"] = v1.Theirs is null ? null : Describe(v1.Theirs),
                ["throughput_ratio"] = v1.Ratio,
                ["target_ratio"] = 2.0,
                ["v2"] = v2 is null ? null : new JsonObject
                {
                    ["piece_length"] = v2.Info.PieceLength,
                    ["ours"] = Describe(v2.Ours),
                    ["libtorrent"] = v2.Theirs is null ? null : Describe(v2.Theirs),
                    ["throughput_ratio"] = v2.Ratio,
                },
            };
            Console.WriteLine(document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return;
        }

        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"torrent bench: {v1.Info.TotalLength >> 20} MiB, {v1.Info.PieceCount} pieces of {v1.Info.PieceLength >> 10} KiB, loopback TCP, seeder and leecher in one process each"));
        PrintPair(v1, "");
        if (v2 is not null)
        {
            Console.WriteLine(string.Create(c, $"v2 (BEP 52, merkle-checked pieces): {v2.Info.PieceCount} pieces of {v2.Info.PieceLength >> 10} KiB"));
            PrintPair(v2, "v2 ");
        }
    }

    private static void PrintPair(Pair pair, string prefix)
    {
        var c = CultureInfo.InvariantCulture;
        foreach (var m in new[] { pair.Ours, pair.Theirs })
        {
            if (m is not null)
            {
                Console.WriteLine(string.Create(c, $"  {prefix + m.Name,-20} {m.MegabytesPerSecond,8:F1} MB/s  {m.Seconds,6:F2} s  {m.CpuSecondsPerGiB,6:F2} CPU s/GiB"));
            }
        }

        if (pair.Ratio is { } r)
        {
            Console.WriteLine(string.Create(c, $"  {prefix}ratio ours/libtorrent {r:F2}x throughput (target >= 2x), CPU s/GiB {pair.Ours.CpuSecondsPerGiB:F2} vs {pair.Theirs!.CpuSecondsPerGiB:F2}"));
        }
    }

    private static JsonObject Describe(Measurement m) => new()
    {
        ["name"] = m.Name,
        ["seconds"] = m.Seconds,
        ["mb_per_s"] = m.MegabytesPerSecond,
        ["cpu_seconds"] = m.CpuSeconds,
        ["cpu_seconds_per_gib"] = m.CpuSecondsPerGiB,
    };
}
