namespace Testbed.Contracts.Settings;

/// <summary>A setting a testbed service reads: its configuration key (<c>Testbed:Dht:Port</c>) and the environment variable that sets it.</summary>
public record Setting(string Key)
{
    /// <summary>The environment variable the AppHost sets for it (<c>Testbed__Dht__Port</c>).</summary>
    public string EnvironmentVariable => Key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>
    /// The refusal of the setting's configuration text, or null when it is usable (any text is, for a setting without a
    /// range): checked before the text is bound, since the configuration binder's own refusal of "abc" names neither the
    /// setting's range nor, for some types, the setting.
    /// </summary>
    public virtual string? RefusalOfText(string text, string? option = null) => null;

    /// <summary>
    /// The refusals of the configuration texts of <paramref name="settings"/> (<paramref name="textOf"/> gives a key's text,
    /// null when unset); <paramref name="optionOf"/> names the way each came in, when a refusal should say it.
    /// </summary>
    public static IEnumerable<string> RefusalsOfTexts(IEnumerable<Setting> settings, Func<string, string?> textOf, Func<Setting, string?>? optionOf = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(textOf);
        foreach (var setting in settings)
        {
            if (textOf(setting.Key) is { } text && setting.RefusalOfText(text, optionOf?.Invoke(setting)) is { } refusal)
            {
                yield return refusal;
            }
        }
    }

    /// <summary>Throws an <see cref="ArgumentException"/> with the first of <see cref="RefusalsOfTexts"/>, if any.</summary>
    public static void CheckTexts(IEnumerable<Setting> settings, Func<string, string?> textOf)
    {
        if (RefusalsOfTexts(settings, textOf).FirstOrDefault() is { } refusal)
        {
            throw new ArgumentException(refusal);
        }
    }

    /// <summary>How a refusal names the setting: the key, with the command-line option it came in as when there is one.</summary>
    protected string Name(string? option) => option is null ? Key : $"{option} ({Key})";
}
