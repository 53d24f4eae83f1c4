using System.Collections.Concurrent;
using System.Diagnostics;
using Testbed.Tracker.Telemetry;

namespace Testbed.Tracker.Tests;

/// <summary>Records every span of the tracker's ActivitySource (all data) while it lives.</summary>
internal sealed class TrackerSpans : IDisposable
{
    private readonly ActivityListener _listener;

    public TrackerSpans()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TrackerTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The spans stopped so far, in order.</summary>
    public ConcurrentQueue<Activity> Stopped { get; } = new();

    public void Dispose() => _listener.Dispose();
}
