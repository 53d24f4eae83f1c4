using System.Globalization;

namespace Testbed.Bench.Measurement;

/// <summary>
/// CPU time of another process (a server under load) from /proc/&lt;pid&gt;/stat: utime + stime, in clock ticks of
/// 1/100 s (USER_HZ, fixed at 100 on Linux). Read before and after a measured window; the difference divided by the
/// work served is the server's CPU per unit, which the load on the machine changes far less than a rate.
/// </summary>
public static class ProcessCpu
{
    private const double TicksPerSecond = 100;

    /// <summary>utime + stime of <paramref name="pid"/>, in microseconds.</summary>
    public static double Microseconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) * 1_000_000 / TicksPerSecond;
    }
}
