using System.Diagnostics;

namespace Testbed.Vm;

/// <summary>The VM's ActivitySource ("Testbed.Vm") and the names of its span and attributes, as in DESIGN.md.</summary>
public static class VmTelemetry
{
    /// <summary>Name of the ActivitySource.</summary>
    public const string SourceName = "Testbed.Vm";

    /// <summary>Span emitted for every block applied.</summary>
    public const string ReplaySpan = "vm.replay";

    internal static readonly ActivitySource Source = new(SourceName);
}
