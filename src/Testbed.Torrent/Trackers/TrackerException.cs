namespace Testbed.Torrent.Trackers;

/// <summary>A tracker request that failed: unreachable, timed out, or answered with something malformed.</summary>
public class TrackerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrackerException(Uri tracker, string message, bool isRetryable, Exception? innerException = null)
        : base($"tracker {tracker}: {message}", innerException)
    {
        Tracker = tracker;
        IsRetryable = isRetryable;
    }

    /// <summary>The tracker's URL.</summary>
    public Uri Tracker { get; }

    /// <summary>Whether trying again later may help (network trouble) as opposed to a definite answer or a broken tracker.</summary>
    public bool IsRetryable { get; }
}

/// <summary>The tracker answered with a `failure reason` (or a BEP 15 error): a definite refusal, surfaced and not retried blindly.</summary>
public sealed class TrackerFailureException : TrackerException
{
    /// <summary>Creates the exception.</summary>
    public TrackerFailureException(Uri tracker, string reason)
        : base(tracker, $"failure reason: {reason}", isRetryable: false)
    {
        Reason = reason;
    }

    /// <summary>The tracker's own words.</summary>
    public string Reason { get; }
}

/// <summary>Every tracker of every tier failed one announce; <see cref="Errors"/> says why for each.</summary>
public sealed class TrackerAnnounceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrackerAnnounceException(IReadOnlyList<TrackerException> errors)
        : base(errors.Count == 0 ? "no trackers to announce to" : $"all {errors.Count} tracker(s) failed: {string.Join("; ", errors.Select(e => e.Message))}", errors.Count > 0 ? errors[0] : null)
    {
        Errors = errors;
    }

    /// <summary>One error per tracker tried, in the order tried.</summary>
    public IReadOnlyList<TrackerException> Errors { get; }
}
