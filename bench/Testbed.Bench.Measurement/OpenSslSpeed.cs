using System.Globalization;

namespace Testbed.Bench.Measurement;

/// <summary>
/// OpenSSL's bulk digest speed on one thread (`openssl speed -seconds S -bytes 16384 -evp ALGORITHM`), the physical
/// limit of any bench whose work is hashing: bytes per second of the tool's user CPU time, which is how openssl speed
/// divides unless given -elapsed, so the figure is a per-core rate however loaded the machine is.
/// </summary>
public static class OpenSslSpeed
{
    private const int BlockBytes = 16384;

    /// <summary>The openssl binary, or null when none is installed.</summary>
    public static string? Find() => new[] { "/usr/bin/openssl", "/usr/local/bin/openssl" }.FirstOrDefault(File.Exists);

    /// <summary>Whole seconds openssl speed can run for (it takes integers, at least 1).</summary>
    public static int Seconds(TimeSpan duration) => Math.Max(1, (int)Math.Round(duration.TotalSeconds));

    /// <summary>The command line, for the notes a bench prints about its limit.</summary>
    public static string CommandLine(string openssl, string algorithm, int seconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{openssl} speed -seconds {seconds} -bytes {BlockBytes} -evp {algorithm}");

    /// <summary>Bytes of <paramref name="algorithm"/> (sha1, sha256, ...) digested per CPU-second in 16 KiB blocks, or null when openssl failed.</summary>
    public static async Task<double?> BytesPerSecondAsync(string openssl, string algorithm, int seconds, CancellationToken cancellationToken)
    {
        var output = await ToolRun.StdoutAsync(
            openssl,
            ["speed", "-seconds", seconds.ToString(CultureInfo.InvariantCulture), "-bytes", BlockBytes.ToString(CultureInfo.InvariantCulture), "-evp", algorithm],
            TimeSpan.FromSeconds(60 + seconds),
            cancellationToken).ConfigureAwait(false);

        // The result row reads "sha256  1910525.64k" (one column: the 16 KiB blocks), thousands of bytes per second.
        var row = output?.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith(algorithm + " ", StringComparison.Ordinal));
        var figure = row?.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        return figure is not null && figure.EndsWith('k')
            && double.TryParse(figure[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var kilobytes) && kilobytes > 0
            ? kilobytes * 1000
            : null;
    }
}
