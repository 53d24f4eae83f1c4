using System.Globalization;

namespace Testbed.Contracts.Settings;

/// <summary>
/// A setting whose value has one range that every entry point checks (the AppHost when it sets the environment, the
/// service when it reads it, a command line when it accepts it), and the one refusal naming the setting and that range.
/// </summary>
public abstract record RangeSetting<T>(string Key, T Min, T Max, string Meaning) : Setting(Key)
    where T : struct, IComparable<T>, IParsable<T>, IFormattable
{
    /// <summary>What a value is, as a refusal says it ("a whole number").</summary>
    protected abstract string Kind { get; }

    /// <summary>True when the value is in range.</summary>
    public bool Allows(T value) => value.CompareTo(Min) >= 0 && value.CompareTo(Max) <= 0;

    /// <summary>The refusal of a value: the setting (and the option it came in as), the allowed range, and what was given.</summary>
    public string Refusal(string? given, string? option = null) =>
        $"{Name(option)} must be {Kind} from {Show(Min)} to {Show(Max)} ({Meaning}), not '{given}'";

    /// <summary>The refusal of a value out of range; null when it is in range.</summary>
    public string? RefusalOf(T value, string? option = null) => Allows(value) ? null : Refusal(Show(value), option);

    /// <summary>Parses an invariant value in range; otherwise false with <see cref="Refusal"/>.</summary>
    public bool TryParse(string? text, out T value, out string error, string? option = null)
    {
        value = default;
        error = "";
        // The text as written, read in the invariant culture: blanks around it are refused, as the peer always refused them.
        if (text is not null && text.Trim().Length == text.Length && T.TryParse(text, CultureInfo.InvariantCulture, out value) && Allows(value))
        {
            return true;
        }

        error = Refusal(text, option);
        return false;
    }

    /// <inheritdoc/>
    public override string? RefusalOfText(string text, string? option = null) => TryParse(text, out _, out var error, option) ? null : error;

    /// <summary>The value when it is in range; otherwise an <see cref="ArgumentException"/> with <see cref="Refusal"/>.</summary>
    public T Check(T value, string? option = null) => RefusalOf(value, option) is { } refusal ? throw new ArgumentException(refusal) : value;

    /// <summary>The environment value for a value in range (checked: the AppHost never hands a service a value it would refuse).</summary>
    public string Format(T value) => Show(Check(value));

    /// <summary>The invariant text of a value, as <see cref="TryParse"/> reads it back.</summary>
    private static string Show(T value) => value.ToString(null, CultureInfo.InvariantCulture);
}
