namespace Testbed.Torrent.Trackers;

/// <summary>Timeouts, bounds and retry policy for tracker clients.</summary>
public sealed record TrackerClientOptions
{
    /// <summary>Whole-request timeout for an HTTP announce or scrape.</summary>
    public TimeSpan HttpTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest HTTP response body read; more is a protocol error.</summary>
    public int MaxResponseBytes { get; init; } = 1 << 20;

    /// <summary>Most peers taken from one response (extra entries are ignored).</summary>
    public int MaxPeers { get; init; } = 2000;

    /// <summary>First UDP retransmission timeout; it doubles after each retransmission (BEP 15: 15 s * 2^n).</summary>
    public TimeSpan UdpInitialTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// UDP sends before giving up (BEP 15 allows n up to 8, over an hour; fewer here because several
    /// trackers and the retry pipeline follow).
    /// </summary>
    public int UdpMaxAttempts { get; init; } = 4;

    /// <summary>How long a UDP connection id is reused (BEP 15: one minute).</summary>
    public TimeSpan UdpConnectionIdLifetime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Retries of a retryable failure (network trouble) on one tracker before moving on.</summary>
    public int RetryAttempts { get; init; } = 2;

    /// <summary>First retry delay; it grows exponentially with jitter.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Floor under any tracker's interval, so a tracker saying 0 cannot make us hammer it.</summary>
    public TimeSpan MinimumInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Ceiling on any tracker's interval.</summary>
    public TimeSpan MaximumInterval { get; init; } = TimeSpan.FromHours(2);

    /// <summary>Wait before re-announcing after every tracker failed.</summary>
    public TimeSpan FailureRetryInterval { get; init; } = TimeSpan.FromMinutes(1);
}
