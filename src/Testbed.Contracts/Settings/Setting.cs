namespace Testbed.Contracts.Settings;

/// <summary>A setting a testbed service reads: its configuration key (<c>Testbed:Dht:Port</c>) and the environment variable that sets it.</summary>
public record Setting(string Key)
{
    /// <summary>The environment variable the AppHost sets for it (<c>Testbed__Dht__Port</c>).</summary>
    public string EnvironmentVariable => Key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>How a refusal names the setting: the key, with the command-line option it came in as when there is one.</summary>
    protected string Name(string? option) => option is null ? Key : $"{option} ({Key})";
}
