namespace Testbed.Bench.Measurement;

/// <summary>The machine's load average as /proc/loadavg gives it, printed with every figure: shared machines are noisy.</summary>
public static class LoadAverage
{
    public static string Read()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
