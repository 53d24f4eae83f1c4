using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Testbed.Bench.Measurement;

/// <summary>The statistics and the output conventions the headless benches share with the CLI benches.</summary>
public static class BenchFigures
{
    /// <summary>The --json form: one line (the tests take the line starting with '{'), snake_case as the CLI benches write it.</summary>
    /// A figure with no samples is NaN, written as "NaN" rather than failing the whole report.
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The --json form of the library benches (`testbed-bench`), which print nothing else: indented, snake_case.</summary>
    public static readonly JsonSerializerOptions IndentedJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>The `--json` option every bench takes.</summary>
    public static Option<bool> JsonOption() => new("--json") { Description = "Print the figures as one JSON object" };

    /// <summary>The median (the mean of the two middle values for an even count); NaN for none.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN
            : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2]
            : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The nearest-rank <paramref name="p"/> percentile (0..1) of <paramref name="values"/>; NaN for none.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>Series whose side gave several metrics, each as its own series in <paramref name="unit"/>: the metric's name becomes the side.</summary>
    public static IEnumerable<Series> PerMetric(this IEnumerable<Series> series, string side, string unit) =>
        series.Where(s => s.Side == side).Select(s => s with { Side = s.Unit, Unit = unit });

    /// <summary>"met" or "NOT met", as the CLI benches print a target.</summary>
    public static string Verdict(bool met) => met ? "met" : "NOT met";

    /// <summary>
    /// Runs a bench whose arguments gave <paramref name="error"/> (null: usable) and prints its result as text or as JSON
    /// (<paramref name="jsonOptions"/>, one line by default); the exit code: 2 for unusable arguments (the one error line),
    /// 0 when the result met its target, 1 when not. With no <paramref name="met"/> the bench only reports its target
    /// (in its figures) and exits 0 either way.
    /// </summary>
    public static async Task<int> RunAsync<T>(
        string? error, bool json, Func<Task<T>> run, Action<T> print, Func<T, bool>? met = null, JsonSerializerOptions? jsonOptions = null)
    {
        if (error is not null)
        {
            await Console.Error.WriteLineAsync(error);
            return 2;
        }

        var result = await run();
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result, jsonOptions ?? Json));
        }
        else
        {
            print(result);
        }

        return met is null || met(result) ? 0 : 1;
    }

    /// <summary>Prints the figures as the CLI benches do: every series, <paramref name="extra"/> lines, the ratios of medians, the limit lines.</summary>
    public static void PrintFigures(IEnumerable<Series> series, IEnumerable<string> extra, IEnumerable<Ratio> ratios, IEnumerable<Limit> limits)
    {
        foreach (var line in series.Select(s => s.Line()).Concat(extra).Concat(ratios.Select(r => r.Line())).Concat(limits.Select(l => l.Line())))
        {
            Console.WriteLine(line);
        }
    }

    /// <summary>The closing lines: the load average the figures go with, and the note on how they were taken.</summary>
    public static void PrintClosing(string loadAverage, int processors, string? note = null)
    {
        Console.WriteLine($"load average at the end: {loadAverage} ({processors} processors)");
        if (note is not null)
        {
            Console.WriteLine($"({note})");
        }
    }
}
