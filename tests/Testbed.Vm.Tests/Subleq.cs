namespace Testbed.Vm.Tests;

/// <summary>Tiny SUBLEQ programs used by the tests, laid out by hand (each instruction is three words a, b, c).</summary>
internal static class Subleq
{
    public const int Zero = 15;
    public const int Result = 16;
    public const int X = 17;
    public const int Y = 18;
    public const int One = 19;

    /// <summary>result += x, y times (y &gt;= 1), by repeated subtraction; halts by jumping to -1.</summary>
    public static long[] Multiply(long x, long y) =>
    [
        X, Zero, 3,        // 0: Z -= x            (Z = -x)
        Zero, Result, 6,   // 3: R -= Z            (R += x)
        Zero, Zero, 9,     // 6: Z = 0
        One, Y, -1,        // 9: y -= 1; halt when y <= 0
        Zero, Zero, 0,     // 12: Z = 0, always jump back to 0
        0, 0, x, y, 1,     // 15..19: Z, R, X, Y, ONE
    ];

    /// <summary>Jumps to itself for ever.</summary>
    public static long[] Forever => [3, 3, 0, 0];

    public static string Contract(long[] program, long? gas = null, int offset = 0)
    {
        // Invariant formatting: a test may run under a culture whose minus sign is not ASCII.
        var c = System.Globalization.CultureInfo.InvariantCulture;
        var gasField = gas is { } g ? ",\"gas\":" + g.ToString(c) : "";
        return "{\"actions\":[{\"action\":\"subleq\",\"program\":[" + string.Join(",", program.Select(w => w.ToString(c))) + "],\"offset\":" + offset.ToString(c) + gasField + "}]}";
    }
}
