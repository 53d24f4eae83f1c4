using System.Globalization;
using System.Text;
using Xunit.Sdk;

namespace Testbed.TestSupport.BadInput;

/// <summary>
/// Generated bad input for the entry-point test suites (the <c>BadInput</c> folder of each test project) and the assertions
/// every such case shares: an error names the problem in one line, never shows a stack trace, and bounded work keeps the
/// process's peak memory bounded. The generators are seeded, so a failure names the seed and the case that broke it.
/// Linked into each test project that has a <c>BadInput</c> suite.
/// </summary>
internal static class BadInputs
{
    /// <summary>The seed of this test run (TESTBED_BADINPUT_SEED replays one), printed with every failing case.</summary>
    public static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("TESTBED_BADINPUT_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
        ? seed
        : Environment.TickCount & 0x7FFFFFFF;

    /// <summary>A line of a .NET stack trace.</summary>
    public const string StackTraceMarker = "   at ";

    /// <summary>
    /// JSON-ish request bodies that are wrong in one way each: truncated, bytes flipped, invalid UTF-8 inside strings, lone
    /// surrogate escapes, nesting past any sane depth, wrong types, huge numbers, duplicated keys, stray control characters.
    /// <paramref name="valid"/> is a body the endpoint would accept; mutations start from it.
    /// </summary>
    public static IEnumerable<(string Case, byte[] Body)> JsonBodies(string valid, int count, int seed)
    {
        var random = new Random(seed);
        var good = Encoding.UTF8.GetBytes(valid);
        yield return ("empty object", "{}"u8.ToArray());
        yield return ("array", "[]"u8.ToArray());
        yield return ("null", "null"u8.ToArray());
        yield return ("number", "1e999999"u8.ToArray());
        yield return ("string with lone surrogate", Encoding.UTF8.GetBytes("{\"token\":\"\\ud800\",\"action\":\"\\udfff\"}"));
        yield return ("invalid UTF-8 in a string", [.. "{\"token\":\""u8, 0xC3, 0x28, .. "\",\"action\":\""u8, 0xFF, .. "\"}"u8]);
        yield return ("overlong UTF-8", [.. "{\"action\":\""u8, 0xC0, 0xAF, .. "\"}"u8]);
        yield return ("deep nesting", Encoding.UTF8.GetBytes(new string('[', 5000) + new string(']', 5000)));
        yield return ("deep object", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 500)) + "1" + new string('}', 500)));
        yield return ("NUL bytes", new byte[64]);
        yield return ("BOM then garbage", [0xEF, 0xBB, 0xBF, 0xFF, 0xFE]);
        yield return ("trailing garbage", [.. good, .. "}}}"u8]);
        yield return ("two documents", [.. good, .. good]);
        for (var i = 0; i < count; i++)
        {
            var body = (byte[])good.Clone();
            switch (random.Next(7))
            {
                case 0:
                    yield return ($"truncated #{i}", body[..random.Next(Math.Max(1, body.Length))]);
                    break;
                case 1:
                    body[random.Next(body.Length)] = (byte)random.Next(256);
                    body[random.Next(body.Length)] = (byte)random.Next(256);
                    yield return ($"bytes flipped #{i}", body);
                    break;
                case 2:
                    var at = random.Next(body.Length);
                    yield return ($"invalid byte inserted #{i}", [.. body[..at], (byte)random.Next(0x80, 0x100), .. body[at..]]);
                    break;
                case 3:
                    yield return ($"control character #{i}", Encoding.UTF8.GetBytes(valid.Insert(random.Next(valid.Length), ((char)random.Next(0, 0x20)).ToString())));
                    break;
                case 4:
                    yield return ($"wrong types #{i}", Encoding.UTF8.GetBytes(
                        $"{{\"action\":{Pick(random, "1", "true", "[]", "{}", "null", "\"\"")},\"blocks\":{Pick(random, "\"x\"", "1.5", "-1", "99999999999999999999", "[]", "null")},\"token\":{Pick(random, "1", "[]", "{}", "null")},\"actions\":{Pick(random, "1", "\"x\"", "{}", "null")},\"share\":{Pick(random, "\"x\"", "1e400", "-1", "NaN")}}}"));
                    break;
                case 5:
                    yield return ($"random bytes #{i}", RandomBytes(random, random.Next(1, 512)));
                    break;
                default:
                    yield return ($"duplicate keys #{i}", Encoding.UTF8.GetBytes(valid.TrimEnd('}') + "," + valid.TrimStart('{')));
                    break;
            }
        }
    }

    /// <summary>Strings no command-line argument should ever hold: control characters, escapes, huge, empty, path tricks.</summary>
    public static IEnumerable<(string Case, string Value)> ArgumentStrings(int count, int seed)
    {
        var random = new Random(seed);
        yield return ("empty", "");
        yield return ("space", " ");
        yield return ("terminal escape", "\u001b]0;pwned\u0007\u001b[31m");
        yield return ("newline", "a\nb");
        yield return ("huge", new string('x', 100_000));
        yield return ("dot dot", "../../../../../../../../etc/passwd");
        yield return ("dash", "-");
        yield return ("nul-looking", "\\0");
        yield return ("unicode", "ü\u202E\u2066名");
        for (var i = 0; i < count; i++)
        {
            var chars = new char[random.Next(1, 40)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = random.Next(4) switch
                {
                    0 => (char)random.Next(1, 0x20),
                    1 => (char)random.Next(0x20, 0x7F),
                    2 => (char)random.Next(0x80, 0x800),
                    _ => "/.:-@%$*?"[random.Next(9)],
                };
            }

            yield return ($"random #{i}", new string(chars));
        }
    }

    /// <summary>Random bytes.</summary>
    public static byte[] RandomBytes(Random random, int length)
    {
        ArgumentNullException.ThrowIfNull(random);
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>No line of <paramref name="text"/> is a stack-trace line, an exception type or a source path.</summary>
    public static void AssertNoStackTrace(string text, string context)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains(StackTraceMarker, StringComparison.Ordinal) || text.Contains("Exception:", StringComparison.Ordinal) ||
            text.Contains("System.Nullable`", StringComparison.Ordinal) || text.Contains(".cs:line", StringComparison.Ordinal))
        {
            throw new XunitException($"{context} (seed {Seed}): output shows .NET internals:\n{Shorten(text)}");
        }
    }

    /// <summary>
    /// <paramref name="stderr"/> is exactly one line, <c>error: ...</c>, containing every fragment of
    /// <paramref name="mentions"/> (case-insensitive), with no stack trace.
    /// </summary>
    public static void AssertOneLineError(string stderr, string context, params string[] mentions)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        AssertNoStackTrace(stderr, context);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length != 1 || !lines[0].StartsWith("error: ", StringComparison.Ordinal))
        {
            throw new XunitException($"{context} (seed {Seed}): expected one line 'error: ...', got {lines.Length} line(s):\n{Shorten(stderr)}");
        }

        foreach (var mention in mentions)
        {
            if (!lines[0].Contains(mention, StringComparison.OrdinalIgnoreCase))
            {
                throw new XunitException($"{context} (seed {Seed}): the error does not mention '{mention}': {lines[0]}");
            }
        }

        if (lines[0].Any(c => char.IsControl(c) && c != '\t'))
        {
            throw new XunitException($"{context} (seed {Seed}): the error line holds raw control characters: {Visible(lines[0])}");
        }
    }

    /// <summary>The peak resident set (VmHWM) of a live process, from /proc; null where there is no /proc.</summary>
    public static long? PeakResidentBytes(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            return null;
        }

        try
        {
            foreach (var line in File.ReadLines(status))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // The process ended between the check and the read.
        }

        return null;
    }

    /// <summary>The text with control characters shown as \uXXXX.</summary>
    public static string Visible(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsControl(c) && c != '\n' ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return builder.ToString();
    }

    private static string Shorten(string text) => Visible(text.Length > 4000 ? text[..4000] + "..." : text);

    private static string Pick(Random random, params string[] choices) => choices[random.Next(choices.Length)];
}
