namespace Testbed.Contracts.Settings;

/// <summary>The chaos service's settings (section <c>Chaos</c>, environment <c>Chaos__...</c>), named once for the service and the AppHost that sets them.</summary>
public static class ChaosSettings
{
    /// <summary>The configuration section of every chaos setting.</summary>
    public const string Section = "Chaos";

    /// <summary>The scenarios file.</summary>
    public static Setting ScenariosFile { get; } = new("Chaos:ScenariosFile");

    /// <summary>The peers' loopback plan, "127.A.B".</summary>
    public static Setting LoopbackPlan { get; } = new("Chaos:LoopbackPlan");

    /// <summary>The AppHost's control API base URL.</summary>
    public static Setting ControlApiUrl { get; } = new("Chaos:ControlApiUrl");

    /// <summary>Where each run gets its directory.</summary>
    public static Setting RunsDirectory { get; } = new("Chaos:RunsDirectory");
}
