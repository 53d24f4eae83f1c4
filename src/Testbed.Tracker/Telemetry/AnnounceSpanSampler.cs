using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Testbed.Tracker.Telemetry;

/// <summary>
/// The tracker service's OpenTelemetry sampler: the SDK's default (parent-based, every root recorded) except for root
/// `torrent.announce` spans, which are kept at a ratio. An announce that continues a caller's trace (a testbed peer's
/// HTTP announce carries its traceparent) follows the caller's decision, so traces across services stay whole; the
/// thousands of root announces per second of a busy tracker cost a span each only at the ratio. Counts stay exact in
/// the `tracker.*` metrics.
/// </summary>
public sealed class AnnounceSpanSampler : Sampler
{
    private static readonly SamplingResult Recorded = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult Dropped = new(SamplingDecision.Drop);

    private readonly TraceIdRatioBasedSampler _roots;

    /// <summary>Keeps root announce spans with probability <paramref name="ratio"/> (0..1, decided by trace id).</summary>
    public AnnounceSpanSampler(double ratio)
    {
        _roots = new TraceIdRatioBasedSampler(ratio);
        Description = $"AnnounceSpanSampler({ratio})";
    }

    /// <inheritdoc />
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        var parent = samplingParameters.ParentContext;
        if (parent.TraceId != default)
        {
            return (parent.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? Recorded : Dropped;
        }

        return samplingParameters.Name == TrackerTelemetry.AnnounceSpan ? _roots.ShouldSample(samplingParameters) : Recorded;
    }
}
