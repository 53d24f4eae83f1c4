namespace Testbed.Contracts.Settings;

/// <summary>
/// The per-run control secret (configuration <c>Testbed:ControlSecret</c>, environment <c>Testbed__ControlSecret</c>), named
/// once with the values it accepts: the services check it (ServiceDefaults' <c>ControlCallers</c>), the AppHost generates it
/// and hands it to every resource, and the tests set it through these.
/// </summary>
public static class ControlSettings
{
    /// <summary>The value of <see cref="Secret"/> that explicitly switches the secret check off (local-caller checks stay).</summary>
    public const string SecretOptOut = "none";

    /// <summary>Shortest secret accepted: a guessable secret is no secret.</summary>
    public const int MinSecretLength = 16;

    /// <summary>The per-run secret that callers of control endpoints present.</summary>
    public static Setting Secret { get; } = new("Testbed:ControlSecret");
}
