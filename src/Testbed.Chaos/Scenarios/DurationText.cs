using System.Globalization;
using System.Text.RegularExpressions;

namespace Testbed.Chaos.Scenarios;

/// <summary>Durations as scenarios.yaml writes them: 250ms, 20s, 1.5s, 2m.</summary>
public static partial class DurationText
{
    /// <summary>Longest duration a scenario may name.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromHours(1);

    /// <summary>Parses <paramref name="text"/>; false when it is not a duration in 0..<see cref="Max"/>.</summary>
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        var match = Pattern().Match(text.Trim());
        if (!match.Success || !double.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        duration = match.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(value),
            "s" => TimeSpan.FromSeconds(value),
            _ => TimeSpan.FromMinutes(value),
        };
        return duration <= Max;
    }

    /// <summary>The shortest text that parses back to <paramref name="duration"/>.</summary>
    public static string Format(TimeSpan duration) =>
        duration.TotalMilliseconds % 1000 == 0 ? $"{duration.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s" : $"{duration.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms";

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$")]
    private static partial Regex Pattern();
}
