namespace Testbed.Bench.AppHost;

/// <summary>
/// The disk's floor under a block's store: a peer writes each block body to a new file and fsyncs it (and commits its
/// index in SQLite, synchronous FULL), so no block is stored, and none replayed on a receiver, faster than one such fsync.
/// </summary>
internal static class FsyncProbe
{
    /// <summary>Bytes written per probe: a small block body.</summary>
    public const int Bytes = 4096;

    /// <summary>
    /// Creates a file in <paramref name="directory"/>, writes <see cref="Bytes"/> bytes and fsyncs it, <paramref name="count"/>
    /// times; the median milliseconds of one create+write+fsync. The files are removed.
    /// </summary>
    public static double MedianMs(string directory, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var payload = new byte[Bytes];
        Random.Shared.NextBytes(payload);
        var probes = Path.Combine(directory, $".fsync-probe-{Guid.NewGuid():n}");
        Directory.CreateDirectory(probes);
        try
        {
            var samples = new double[count];
            for (var i = 0; i < count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using (var file = new FileStream(Path.Combine(probes, $"{i}.bin"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
                {
                    file.Write(payload);
                    file.Flush(flushToDisk: true);
                }

                samples[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            return BenchFigures.Median(samples);
        }
        finally
        {
            Directory.Delete(probes, recursive: true);
        }
    }
}
