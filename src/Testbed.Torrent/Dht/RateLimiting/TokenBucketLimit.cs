namespace Testbed.Torrent.Dht.RateLimiting;

/// <summary>One token bucket's bound: it refills at <paramref name="Rate"/> tokens (queries) per second up to <paramref name="Burst"/>.</summary>
/// <param name="Rate">Tokens added per second.</param>
/// <param name="Burst">The bucket's size: most tokens taken at once after a quiet spell.</param>
public readonly record struct TokenBucketLimit(double Rate, double Burst);
