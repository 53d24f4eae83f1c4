using Testbed.Tracker.Hosting;

namespace Testbed.Tracker.Announces;

/// <summary>What the tracker tells clients and how far it trusts them.</summary>
/// <param name="Interval">Seconds between regular announces.</param>
/// <param name="MinInterval">Seconds a client must wait at least between announces.</param>
/// <param name="DefaultNumWant">Peers returned when the client does not say.</param>
/// <param name="MaxNumWant">Peers returned at most.</param>
/// <param name="AllowClientIp">Whether a claimed `ip` replaces the connection's address.</param>
/// <param name="MaxScrapeHashes">Info hashes per scrape at most.</param>
public sealed record AnnouncePolicy(int Interval, int MinInterval, int DefaultNumWant, int MaxNumWant, bool AllowClientIp, int MaxScrapeHashes)
{
    /// <summary>The defaults of <see cref="TrackerOptions"/>.</summary>
    public static AnnouncePolicy Default { get; } = From(new TrackerOptions());

    /// <summary>From validated options.</summary>
    public static AnnouncePolicy From(TrackerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options.Interval, options.MinInterval, options.DefaultNumWant, options.MaxNumWant, options.AllowClientIp, options.MaxScrapeHashes);
    }

    /// <summary>Negative (UDP's -1, or absent) means the default; anything above the maximum is cut to it.</summary>
    public int BoundNumWant(int requested) => requested < 0 ? DefaultNumWant : Math.Min(requested, MaxNumWant);
}
