using System.Diagnostics;

namespace Testbed.Chaos;

/// <summary>The chaos controller's ActivitySource and the names of its spans and attributes (DESIGN.md telemetry contract).</summary>
public static class ChaosTelemetry
{
    /// <summary>Name of the ActivitySource.</summary>
    public const string SourceName = "Testbed.Chaos";

    /// <summary>Span of one fault step.</summary>
    public const string FaultSpan = "chaos.fault";

    /// <summary>The ActivitySource every chaos span comes from.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Starts a <c>chaos.fault</c> span with the four contract attributes; null when nobody listens.</summary>
    public static Activity? StartFault(string kind, IEnumerable<string> targets, string scenario, int step)
    {
        var activity = Source.StartActivity(FaultSpan, ActivityKind.Internal);
        activity?.SetTag("chaos.kind", kind);
        activity?.SetTag("chaos.targets", string.Join(",", targets));
        activity?.SetTag("chaos.scenario", scenario);
        activity?.SetTag("chaos.step", step);
        return activity;
    }
}
