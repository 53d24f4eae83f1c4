using System.Numerics;
using Testbed.Torrent.Metainfo;

namespace Testbed.Bench;

/// <summary>
/// `testbed-bench torrent`: the same file over loopback ours→ours and libtorrent→libtorrent (TCP only, seeder and
/// leecher in one process per side), as a v1 torrent and as a v2-only (BEP 52) torrent, in interleaved rounds with the
/// single-core SHA-1 and SHA-256 speed every leecher is bounded by: MB/s and CPU s/GiB, medians and ratios of medians.
/// </summary>
internal static class TorrentBench
{
    /// <summary>Ours / libtorrent, MB/s.</summary>
    public static readonly BenchTarget ThroughputRatioTarget = BenchTarget.AtLeast(3);

    /// <summary>Ours / libtorrent, CPU s/GiB.</summary>
    public static readonly BenchTarget CpuRatioTarget = BenchTarget.AtMost(0.5);

    /// <summary>Ours / the single-core digest speed, MB/s.</summary>
    public static readonly BenchTarget LimitRatioTarget = BenchTarget.AtLeast(0.6);

    private const int DefaultMebibytes = 1024;
    private const long WarmUpBytes = 16 << 20;
    private static readonly string[] Metrics = [Transfer.Throughput, Transfer.CpuPerGiB];

    public static Command Create()
    {
        var shared = new BenchOptions();
        var size = new Option<int>("--size") { Description = $"File size in MiB (1..16384, default {DefaultMebibytes})", DefaultValueFactory = _ => DefaultMebibytes };
        var pieceLength = new Option<int?>("--piece-length") { Description = "Piece length in bytes of the v1 torrent (default: automatic)" };
        var limitSeconds = new Option<int>("--limit-seconds") { Description = "Seconds of each openssl speed sample (1..60, default 2)", DefaultValueFactory = _ => 2 };
        var skipLibtorrent = new Option<bool>("--skip-libtorrent") { Description = "Measure only ours (no anchor: no ratio to libtorrent)" };
        var skipV2 = new Option<bool>("--skip-v2") { Description = "Measure only the v1 torrent (no BEP 52 line)" };
        var command = new Command("torrent", "Move one file over loopback, ours→ours and libtorrent→libtorrent, v1 and v2, against single-core SHA-1/SHA-256; interleaved rounds, medians of MB/s and CPU s/GiB")
        {
            size,
            pieceLength,
            shared.Rounds,
            limitSeconds,
            shared.Json,
            skipLibtorrent,
            skipV2,
        };
        shared.SetAction(
            command,
            parseResult => new Settings(
                parseResult.GetValue(size), parseResult.GetValue(pieceLength), parseResult.GetValue(shared.Rounds), parseResult.GetValue(limitSeconds),
                !parseResult.GetValue(skipLibtorrent), !parseResult.GetValue(skipV2)),
            settings => settings.Error(),
            RunAsync,
            report => report.Print(),
            jsonOptions: BenchFigures.IndentedJson);
        return command;
    }

    /// <summary>The options of one run; the bench's own are checked here, --rounds by <see cref="BenchOptions"/>.</summary>
    private sealed record Settings(int Mebibytes, int? PieceLength, int Rounds, int LimitSeconds, bool Libtorrent, bool V2)
    {
        public string? Error() =>
            Mebibytes is < 1 or > 16384 ? "error: --size must be between 1 and 16384 MiB"
            : PieceLength is < MerkleTree.BlockSize or > TorrentInfo.MaxPieceLength ? $"error: --piece-length must be in {MerkleTree.BlockSize}..{TorrentInfo.MaxPieceLength} bytes"
            : LimitSeconds is < 1 or > 60 ? "error: --limit-seconds must be in 1..60"
            : null;
    }

    /// <summary>One torrent of the same file: its label, metainfo and file, and the digest its pieces are checked with.</summary>
    private sealed record Variant(string Label, TorrentMetainfo Torrent, string TorrentFile, string Digest, string DigestName)
    {
        public string Ours => $"ours {Label}";

        public string Theirs(string version) => $"libtorrent {version} {Label}";

        public string Limit => $"OpenSSL {DigestName}, 1 thread";
    }

    /// <summary>
    /// Finds libtorrent when it is asked for and runs in a new temporary directory, deleted after. A bench that cannot run
    /// throws: the program prints the one error line and exits 1.
    /// </summary>
    private static async Task<TorrentBenchReport> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        var libtorrent = settings.Libtorrent ? await LibtorrentTransfer.VersionAsync(cancellationToken).ConfigureAwait(false) : null;
        if (settings.Libtorrent && libtorrent is null)
        {
            throw new InvalidOperationException("/usr/bin/python3 cannot import libtorrent (install python3-libtorrent, or pass --skip-libtorrent)");
        }

        var root = Directory.CreateTempSubdirectory("testbed-bench-torrent-").FullName;
        try
        {
            return await RunAsync(settings, libtorrent, root, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DeleteQuietly(root);
        }
    }

    private static async Task<TorrentBenchReport> RunAsync(Settings settings, string? libtorrent, string root, CancellationToken cancellationToken)
    {
        var source = Directory.CreateDirectory(Path.Combine(root, "source")).FullName;
        var file = Path.Combine(source, "bench.bin");
        await WriteRandomFileAsync(file, (long)settings.Mebibytes << 20, cancellationToken).ConfigureAwait(false);
        var variants = new List<Variant>();
        var v1 = await TorrentCreator.CreateFromPathAsync(file, new TorrentCreateOptions { PieceLength = settings.PieceLength }, cancellationToken).ConfigureAwait(false);
        variants.Add(await SaveAsync(new Variant("v1", v1, Path.Combine(root, "bench-v1.torrent"), "sha1", "SHA-1"), cancellationToken).ConfigureAwait(false));
        if (settings.V2)
        {
            // The same file as a v2-only torrent: its piece length must be a power of two of at least 16 KiB.
            var length = MerkleTree.IsPieceLength(v1.Info.PieceLength) ? v1.Info.PieceLength : (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(MerkleTree.BlockSize, v1.Info.PieceLength));
            var v2 = await TorrentCreator.CreateFromPathAsync(file, new TorrentCreateOptions { PieceLength = length, Version = TorrentVersion.V2 }, cancellationToken).ConfigureAwait(false);
            variants.Add(await SaveAsync(new Variant("v2", v2, Path.Combine(root, "bench-v2.torrent"), "sha256", "SHA-256"), cancellationToken).ConfigureAwait(false));
        }

        // Warm-up: the JIT and the thread pool are not billed to the first measured sample of either version.
        foreach (var variant in variants)
        {
            await OursTransfer.RunAsync(variant.Torrent, source, Path.Combine(root, "warm-" + variant.Label), WarmUpBytes, cancellationToken).ConfigureAwait(false);
            DeleteQuietly(Path.Combine(root, "warm-" + variant.Label));
        }

        var samples = 0;
        string NextTarget() => Path.Combine(root, "target-" + Interlocked.Increment(ref samples));
        var sides = new List<Side>();
        foreach (var variant in variants)
        {
            sides.Add(new Side(variant.Ours, Metrics, async token => await InFreshTargetAsync(NextTarget(), target => OursTransfer.RunAsync(variant.Torrent, source, target, null, token)).ConfigureAwait(false)));
            if (libtorrent is not null)
            {
                sides.Add(new Side(variant.Theirs(libtorrent), Metrics, async token => await InFreshTargetAsync(NextTarget(), target => LibtorrentTransfer.RunAsync(root, variant.TorrentFile, variant.Torrent.Info.TotalLength, source, target, token)).ConfigureAwait(false)));
            }
        }

        var openssl = OpenSslSpeed.Find();
        if (openssl is not null)
        {
            sides.AddRange(variants.Select(variant => new Side(variant.Limit, Metrics, async token => DigestSample(
                await OpenSslSpeed.BytesPerSecondAsync(openssl, variant.Digest, settings.LimitSeconds, token).ConfigureAwait(false) ?? throw new InvalidOperationException($"openssl speed gave no {variant.Digest} figure")))));
        }

        var series = await Interleaved.RunAsync(settings.Rounds, sides, cancellationToken).ConfigureAwait(false);
        return TorrentBenchReport.From(
            series,
            variants.Select(v => new TorrentBenchReport.Compared(v.Label, v.Torrent.Info.PieceCount, v.Torrent.Info.PieceLength, v.Ours, libtorrent is null ? null : v.Theirs(libtorrent), openssl is null ? null : v.Limit, v.DigestName)).ToArray(),
            v1.Info.TotalLength,
            settings.Rounds,
            libtorrent,
            openssl is null ? "openssl not found: the limits were not measured" : $"measured in every round: {string.Join("; ", variants.Select(v => OpenSslSpeed.CommandLine(openssl, v.Digest, settings.LimitSeconds)))}");
    }

    /// <summary>A digest's speed as a side's sample: MB per CPU-second, and the CPU seconds one GiB costs it.</summary>
    private static double[] DigestSample(double bytesPerSecond) => [bytesPerSecond / 1e6, (1L << 30) / bytesPerSecond];

    private static async Task<Variant> SaveAsync(Variant variant, CancellationToken cancellationToken)
    {
        await File.WriteAllBytesAsync(variant.TorrentFile, variant.Torrent.ToBytes(), cancellationToken).ConfigureAwait(false);
        return variant;
    }

    /// <summary>Runs one transfer into a directory of its own, deleted afterwards so the page cache and the disk do not fill up.</summary>
    private static async Task<double[]> InFreshTargetAsync(string target, Func<string, Task<Transfer>> transfer)
    {
        try
        {
            return (await transfer(target).ConfigureAwait(false)).Values;
        }
        finally
        {
            DeleteQuietly(target);
        }
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

    private static void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
