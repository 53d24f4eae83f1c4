namespace Testbed.Tracker.Swarms;

/// <summary>The store's answer to one announce.</summary>
/// <param name="Refusal">Why it was refused, or <see cref="AnnounceRefusal.None"/>.</param>
/// <param name="Counts">Seeders, leechers and completions after the announce.</param>
/// <param name="Selected">How many peers were written to the caller's span.</param>
public readonly record struct SwarmAnnounceResult(AnnounceRefusal Refusal, SwarmCounts Counts, int Selected)
{
    /// <summary>Whether the announce was taken.</summary>
    public bool Accepted => Refusal == AnnounceRefusal.None;
}
