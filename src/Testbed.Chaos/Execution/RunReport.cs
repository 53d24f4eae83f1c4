using System.Text.Json;
using System.Text.Json.Serialization;
using Testbed.Chaos.Checking;

namespace Testbed.Chaos.Execution;

/// <summary>
/// The outcome of one scenario run, written as report JSON: <see cref="Invariants"/> holds every check made from the
/// history file (<see cref="HistoryFile"/>): each expect step again and each invariant.
/// </summary>
public sealed record RunReport(
    string Scenario,
    DateTimeOffset Started,
    DateTimeOffset Ended,
    bool Passed,
    IReadOnlyList<StepRecord> Steps,
    IReadOnlyList<CheckResult> Invariants,
    IReadOnlyList<ReorgRecord> Reorgs,
    IReadOnlyList<CrashRecord> Crashes,
    IReadOnlyList<InvalidBlockRecord> InvalidBlocks,
    int Observations,
    IReadOnlyDictionary<string, PeerObservation> FinalObservations,
    string? Error,
    string? HistoryFile = null)
{
    /// <summary>The JSON options of report files (camelCase, indented).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Wall time of the run.</summary>
    public TimeSpan Duration => Ended - Started;

    /// <summary>The report as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
