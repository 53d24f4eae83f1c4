using System.Net;

namespace Testbed.Torrent.Dht.RateLimiting;

/// <summary>
/// Token buckets on incoming queries: one per source IP address and one for the whole node; a query that finds either
/// empty is dropped. Keyed by address, not endpoint: a sender picks its source port freely, so a per-endpoint limit would
/// limit nothing. The per-address bucket table is bounded (<see cref="MaxTrackedAddresses"/>); when it is full, buckets
/// that have refilled completely are forgotten, and if none has, unknown addresses share the global bucket only. Thread-safe.
/// </summary>
public sealed class QueryRateLimiter
{
    private readonly object _gate = new();
    private readonly Dictionary<IPAddress, Bucket> _perAddress = [];
    private readonly TimeProvider _time;
    private readonly Bucket _global;

    /// <summary>Creates the limiter; rates are queries per second, bursts the bucket sizes.</summary>
    public QueryRateLimiter(TokenBucketLimit perAddress, TokenBucketLimit global, TimeProvider? time = null, int maxTrackedAddresses = 10_000)
    {
        _time = time ?? TimeProvider.System;
        PerAddress = perAddress;
        Global = global;
        MaxTrackedAddresses = maxTrackedAddresses;
        _global = new Bucket(global.Burst, _time.GetTimestamp());
    }

    /// <summary>The bucket of each address: queries per second and burst one address may send.</summary>
    public TokenBucketLimit PerAddress { get; }

    /// <summary>The node's bucket: queries per second and burst the node answers in all.</summary>
    public TokenBucketLimit Global { get; }

    /// <summary>Most addresses with a bucket of their own.</summary>
    public int MaxTrackedAddresses { get; }

    /// <summary>Queries dropped so far.</summary>
    public long Dropped { get; private set; }

    /// <summary>Takes one query from both buckets; false (drop it) if either is empty.</summary>
    public bool TryAcquire(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (!_perAddress.TryGetValue(address, out var bucket))
            {
                if (_perAddress.Count >= MaxTrackedAddresses)
                {
                    Prune(now);
                }

                if (_perAddress.Count < MaxTrackedAddresses)
                {
                    bucket = new Bucket(PerAddress.Burst, now);
                    _perAddress[address] = bucket;
                }
            }

            var ok = (bucket is null || bucket.Refill(now, PerAddress, _time) >= 1)
                && _global.Refill(now, Global, _time) >= 1;
            if (!ok)
            {
                Dropped++;
                return false;
            }

            if (bucket is not null)
            {
                bucket.Tokens--;
            }

            _global.Tokens--;
            return true;
        }
    }

    private void Prune(long now)
    {
        foreach (var (address, bucket) in _perAddress.ToList())
        {
            if (bucket.Refill(now, PerAddress, _time) >= PerAddress.Burst)
            {
                _perAddress.Remove(address);
            }
        }
    }

    private sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens { get; set; } = tokens;

        private long Stamp { get; set; } = stamp;

        public double Refill(long now, TokenBucketLimit limit, TimeProvider time)
        {
            Tokens = Math.Min(limit.Burst, Tokens + (time.GetElapsedTime(Stamp, now).TotalSeconds * limit.Rate));
            Stamp = now;
            return Tokens;
        }
    }
}
