namespace Testbed.Bench;

/// <summary>The figures of one `bench torrent` run: every side's series, the ratios of medians, the limits and the targets (the --json document too).</summary>
internal sealed record TorrentBenchReport(
    long Bytes,
    IReadOnlyList<TorrentBenchReport.Compared> Torrents,
    int Rounds,
    string Order,
    string? LibtorrentVersion,
    IReadOnlyList<Series> Series,
    IReadOnlyList<Ratio> Ratios,
    IReadOnlyList<Limit> Limits,
    string LimitSource,
    IReadOnlyList<TorrentBenchReport.TargetCheck> Targets,
    int ProcessorCount,
    string LoadAverage,
    string Note)
{
    /// <summary>One torrent of the file (v1 or v2) and the names of its sides; a null name is a side that was not run.</summary>
    internal sealed record Compared(string Version, int Pieces, int PieceLength, string Ours, string? Libtorrent, string? Limit, string Digest);

    /// <summary>A target of issue #18 against the ratio of medians it is judged on.</summary>
    internal sealed record TargetCheck(string Ratio, string Comparison, double Goal, double Value, bool Met);

    public static TorrentBenchReport From(IReadOnlyList<Series> series, IReadOnlyList<Compared> torrents, long bytes, int rounds, string? libtorrent, string limitSource)
    {
        var ratios = new List<Ratio>();
        var limits = new List<Limit>();
        var targets = new List<TargetCheck>();
        foreach (var torrent in torrents)
        {
            Ratio Of(string numerator, string denominator, string unit) => Ratio.Of(series.Find(numerator, unit), series.Find(denominator, unit));
            if (torrent.Libtorrent is { } theirs)
            {
                var throughput = Of(torrent.Ours, theirs, Transfer.Throughput);
                var cpu = Of(torrent.Ours, theirs, Transfer.CpuPerGiB);
                ratios.AddRange([throughput, cpu]);
                targets.Add(Check(throughput, TorrentBench.ThroughputRatioTarget));
                targets.Add(Check(cpu, TorrentBench.CpuRatioTarget));
            }

            if (torrent.Limit is { } digest)
            {
                var throughput = Of(torrent.Ours, digest, Transfer.Throughput);
                ratios.AddRange([throughput, Of(torrent.Ours, digest, Transfer.CpuPerGiB)]);
                if (torrent.Libtorrent is { } anchor)
                {
                    ratios.Add(Of(anchor, digest, Transfer.Throughput));
                }

                limits.Add(new Limit($"{torrent.Digest} on one core (openssl speed, 16 KiB blocks, per second of its CPU time), which every {torrent.Version} leecher must compute over each byte", series.Find(digest, Transfer.Throughput)));
                targets.Add(Check(throughput, TorrentBench.LimitRatioTarget));
            }
        }

        return new TorrentBenchReport(
            bytes, torrents, rounds, "each round runs every side once; the order is reversed every other round", libtorrent, series, ratios, limits, limitSource, targets,
            Environment.ProcessorCount, Measurement.LoadAverage.Read(),
            "loopback TCP; each side's seeder and leecher share one process (ours: this one; libtorrent: one python3 process driven by alerts, no polling), "
            + "and CPU s/GiB is that process's CPU time (both ends) over the measured window divided by the GiB moved; the window opens once both ends have "
            + "checked their files and closes when the leecher has every piece checked and written; MB/s is 10^6 bytes per wall second; a limit side's "
            + "MB/s is per second of openssl's own CPU time (one core), its CPU s/GiB the CPU time one GiB of that digest costs");
    }

    private static TargetCheck Check(Ratio ratio, BenchTarget target) =>
        new($"{ratio.Numerator} / {ratio.Denominator} ({ratio.Unit})", target.Comparison, target.Goal, ratio.Value, target.MetBy(ratio.Value));

    public void Print()
    {
        var c = CultureInfo.InvariantCulture;
        var layout = string.Join("; ", Torrents.Select(t => string.Create(c, $"{t.Version}: {t.Pieces} pieces of {t.PieceLength >> 10} KiB")));
        Console.WriteLine(string.Create(c, $"bench torrent: {Bytes >> 20} MiB over loopback TCP ({layout}); {Rounds} rounds, interleaved ({Order})"));
        Interleaved.Print(Series, [Transfer.Throughput, Transfer.CpuPerGiB], Ratios, Limits, sideWidth: 30);
        Console.WriteLine(Limits.Count == 0 ? $"limit: not measured ({LimitSource})" : $"limit source: {LimitSource}");
        foreach (var target in Targets)
        {
            Console.WriteLine(string.Create(c, $"target: {target.Ratio} {target.Comparison} {target.Goal:F2}: median ratio {target.Value:F3}, {BenchFigures.Verdict(target.Met)}"));
        }

        Console.WriteLine($"load average at the end: {LoadAverage} ({ProcessorCount} processors)");
        Console.WriteLine($"({Note})");
    }
}
