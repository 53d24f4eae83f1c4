using System.Globalization;

namespace Testbed.Contracts.Settings;

/// <summary>
/// A whole-number setting with the one range every entry point checks (the AppHost when it sets the environment, the
/// service when it reads it, a command line when it accepts it), and the one refusal naming the setting and that range.
/// </summary>
public sealed record IntegerSetting(string Key, long Min, long Max, string Meaning) : Setting(Key)
{
    /// <summary>True when the value is in range.</summary>
    public bool Allows(long value) => value >= Min && value <= Max;

    /// <summary>The refusal of a value: the setting (and the option it came in as), the allowed range, and what was given.</summary>
    public string Refusal(string? given, string? option = null) =>
        $"{Name(option)} must be a whole number from {Min} to {Max} ({Meaning}), not '{given}'";

    /// <summary>Parses an invariant whole number in range; otherwise false with <see cref="Refusal"/>.</summary>
    public bool TryParse(string? text, out long value, out string error, string? option = null)
    {
        error = "";
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && Allows(value))
        {
            return true;
        }

        error = Refusal(text, option);
        return false;
    }

    /// <summary>The value when it is in range; otherwise an <see cref="ArgumentException"/> with <see cref="Refusal"/>.</summary>
    public long Check(long value, string? option = null) =>
        Allows(value) ? value : throw new ArgumentException(Refusal(value.ToString(CultureInfo.InvariantCulture), option));

    /// <summary>The environment value for a value in range (checked: the AppHost never hands a service a value it would refuse).</summary>
    public string Format(long value) => Check(value).ToString(CultureInfo.InvariantCulture);
}
