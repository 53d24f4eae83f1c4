namespace Testbed.Tracker.Announces;

/// <summary>The `event` of an announce; the numeric values are BEP 15's on the wire.</summary>
public enum AnnounceEvent
{
    /// <summary>A regular announce (no event, empty, or BEP 21's `paused`).</summary>
    None = 0,

    /// <summary>The peer finished downloading.</summary>
    Completed = 1,

    /// <summary>The peer joined the swarm.</summary>
    Started = 2,

    /// <summary>The peer left the swarm.</summary>
    Stopped = 3,
}
