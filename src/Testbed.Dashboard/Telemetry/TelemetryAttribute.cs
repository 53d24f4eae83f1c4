namespace Testbed.Dashboard.Telemetry;

/// <summary>One attribute as the dashboard shows it: the key and the value rendered as text.</summary>
public sealed record TelemetryAttribute(string Key, string Value);
