using System.Diagnostics;
using OpenTelemetry.Trace;
using Testbed.Tracker.Telemetry;

namespace Testbed.Tracker.Tests;

public class AnnounceSpanSamplerTests
{
    private static SamplingDecision Decide(double ratio, string name, ActivityContext parent) =>
        new AnnounceSpanSampler(ratio).ShouldSample(new SamplingParameters(parent, ActivityTraceId.CreateRandom(), name, ActivityKind.Server)).Decision;

    private static ActivityContext Parent(bool recorded) =>
        new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), recorded ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None, isRemote: true);

    [Fact]
    public void An_announce_continuing_a_trace_follows_the_callers_decision_whatever_the_ratio()
    {
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(0, TrackerTelemetry.AnnounceSpan, Parent(recorded: true)));
        Assert.Equal(SamplingDecision.Drop, Decide(1, TrackerTelemetry.AnnounceSpan, Parent(recorded: false)));
    }

    [Fact]
    public void Root_announces_are_kept_at_the_ratio_and_other_roots_always()
    {
        Assert.Equal(SamplingDecision.Drop, Decide(0, TrackerTelemetry.AnnounceSpan, default));
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(1, TrackerTelemetry.AnnounceSpan, default));
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(0, "GET /health", default));
        var kept = Enumerable.Range(0, 10_000).Count(_ => Decide(0.1, TrackerTelemetry.AnnounceSpan, default) == SamplingDecision.RecordAndSample);
        Assert.InRange(kept, 700, 1300);
    }
}
