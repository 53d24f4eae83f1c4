namespace Testbed.Bench;

/// <summary>One measured transfer of `bench torrent`: bytes moved, wall seconds, and CPU seconds of the process running both ends.</summary>
internal sealed record Transfer(long Bytes, double Seconds, double CpuSeconds)
{
    public const string Throughput = "MB/s";
    public const string CpuPerGiB = "CPU s/GiB";

    public double MegabytesPerSecond => Bytes / 1e6 / Seconds;

    public double CpuSecondsPerGiB => CpuSeconds / (Bytes / (double)(1L << 30));

    /// <summary>The sample in the sides' metric order: <see cref="Throughput"/>, <see cref="CpuPerGiB"/>.</summary>
    public double[] Values => [MegabytesPerSecond, CpuSecondsPerGiB];
}
