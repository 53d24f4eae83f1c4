using Testbed.Inspector.Telemetry;

namespace Testbed.Inspector.Query;

/// <summary>A chaos.fault span, drawn on the timelines it overlaps so a fault and its effect are seen together.</summary>
public sealed record FaultMark(
    string TraceId,
    string SpanId,
    string Kind,
    string? Targets,
    string? Scenario,
    string? Step,
    double StartUnixMs,
    double DurationMs)
{
    /// <summary>Span name of a fault injected by the chaos controller.</summary>
    public const string SpanName = "chaos.fault";

    /// <summary>The mark of a chaos.fault span.</summary>
    public static FaultMark From(SpanRecord span) => new(
        span.TraceId,
        span.SpanId,
        span.Attribute("chaos.kind") ?? "fault",
        span.Attribute("chaos.targets"),
        span.Attribute("chaos.scenario"),
        span.Attribute("chaos.step"),
        span.StartUnixNano / 1e6,
        span.DurationMs);

    /// <summary>True when the fault overlaps [start, end] (Unix ms) widened by <paramref name="marginMs"/>.</summary>
    public bool Overlaps(double startUnixMs, double endUnixMs, double marginMs) =>
        StartUnixMs <= endUnixMs + marginMs && StartUnixMs + DurationMs >= startUnixMs - marginMs;
}
