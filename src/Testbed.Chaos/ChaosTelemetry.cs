using System.Diagnostics;

namespace Testbed.Chaos;

/// <summary>The chaos controller's ActivitySource and its span, <c>chaos.fault</c>, with the attributes of the DESIGN.md telemetry contract.</summary>
public static class ChaosTelemetry
{
    /// <summary>Name of the ActivitySource.</summary>
    public const string SourceName = "Testbed.Chaos";

    /// <summary>The ActivitySource every chaos span comes from.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Starts the span of one fault step, <c>chaos.fault</c>, with the four contract attributes; null when nobody listens.</summary>
    public static Activity? StartFault(string kind, IEnumerable<string> targets, string scenario, int step)
    {
        var activity = Source.StartActivity("chaos.fault", ActivityKind.Internal);
        activity?.SetTag("chaos.kind", kind);
        activity?.SetTag("chaos.targets", string.Join(",", targets));
        activity?.SetTag("chaos.scenario", scenario);
        activity?.SetTag("chaos.step", step);
        return activity;
    }
}
