using System.Collections.Concurrent;
using System.Diagnostics;

namespace Testbed.TestSupport;

/// <summary>Records every span one ActivitySource stops (all data) while it lives.</summary>
internal sealed class SourceSpans : IDisposable
{
    private readonly ActivityListener _listener;

    public SourceSpans(string sourceName)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == sourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The spans stopped so far, in order.</summary>
    public ConcurrentQueue<Activity> Stopped { get; } = new();

    public void Dispose() => _listener.Dispose();
}
