namespace Testbed.Dashboard.Telemetry;

/// <summary>
/// The OTLP resource that sent telemetry, reduced to what the UI groups by. <see cref="Name"/> is the
/// AppHost resource name: <c>service.instance.id</c> (peer-2) when present, else <c>service.name</c>.
/// </summary>
public sealed record TelemetrySource(string Name, string ServiceName, string? InstanceId, IReadOnlyList<TelemetryAttribute> Attributes)
{
    /// <summary>Telemetry without a resource.</summary>
    public static TelemetrySource Unknown { get; } = new("unknown_service", "unknown_service", null, []);
}
