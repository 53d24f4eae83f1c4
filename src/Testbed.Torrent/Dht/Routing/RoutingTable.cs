using System.Net;

namespace Testbed.Torrent.Dht.Routing;

/// <summary>What <see cref="RoutingTable.Observe"/> did with a node.</summary>
public enum ObserveResult
{
    /// <summary>Our own id, or a node that has not answered us (only answering nodes enter the table).</summary>
    Ignored,

    /// <summary>Already in the table; its times were refreshed.</summary>
    Updated,

    /// <summary>Added (possibly after splitting our bucket or replacing a bad node).</summary>
    Added,

    /// <summary>Its bucket is full of good or questionable nodes: kept as a replacement; the questionable ones should be pinged.</summary>
    Cached,
}

/// <summary>
/// The BEP 5 routing table: k-buckets over the 160-bit id space. Only the bucket that covers our own id is split, so the
/// table knows many nodes near us and a few far away. Nodes enter only after answering one of our queries (a query alone
/// could come from a forged address); a full bucket keeps newcomers in a replacement cache of k, used when a member goes bad.
/// Thread-safe.
/// </summary>
public sealed class RoutingTable
{
    private readonly object _gate = new();
    private readonly List<Bucket> _buckets = [];
    private readonly TimeProvider _time;

    /// <summary>An empty table around <paramref name="ownId"/>.</summary>
    public RoutingTable(NodeId ownId, TimeProvider? time = null, int bucketSize = 8, TimeSpan? questionableAfter = null, int failuresForBad = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(failuresForBad, 1);
        OwnId = ownId;
        _time = time ?? TimeProvider.System;
        BucketSize = bucketSize;
        QuestionableAfter = questionableAfter ?? TimeSpan.FromMinutes(15);
        FailuresForBad = failuresForBad;
        _buckets.Add(new Bucket(_time.GetUtcNow()));
    }

    /// <summary>Our id: the table is organised around it.</summary>
    public NodeId OwnId { get; }

    /// <summary>k: the most nodes per bucket (8 in BEP 5).</summary>
    public int BucketSize { get; }

    /// <summary>How long without news before a good node becomes questionable (15 minutes in BEP 5).</summary>
    public TimeSpan QuestionableAfter { get; }

    /// <summary>Unanswered queries in a row that make a node bad.</summary>
    public int FailuresForBad { get; }

    /// <summary>Nodes in the table (replacements not counted).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _buckets.Sum(b => b.Nodes.Count);
            }
        }
    }

    /// <summary>Number of buckets (1 to 160).</summary>
    public int BucketCount
    {
        get
        {
            lock (_gate)
            {
                return _buckets.Count;
            }
        }
    }

    /// <summary>
    /// Records news of a node: <paramref name="responded"/> when it answered one of our queries, otherwise it queried us.
    /// </summary>
    public ObserveResult Observe(NodeId id, IPEndPoint endPoint, bool responded)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (id == OwnId)
        {
            return ObserveResult.Ignored;
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var bucket = BucketFor(id);
            if (bucket.Nodes.Find(n => n.Id == id) is { } known)
            {
                if (!responded && !known.EndPoint.Equals(endPoint))
                {
                    // Anyone can put a known id in a query: only its own endpoint keeps it alive.
                    return ObserveResult.Ignored;
                }

                if (responded)
                {
                    known.LastResponse = now;
                    known.FailedQueries = 0;
                }
                else
                {
                    known.LastQuery = now;
                }

                bucket.LastChanged = now;
                return ObserveResult.Updated;
            }

            if (!responded)
            {
                return ObserveResult.Ignored;
            }

            while (true)
            {
                if (bucket.Nodes.Exists(n => n.EndPoint.Equals(endPoint)))
                {
                    // One entry per endpoint: an address cannot fill a bucket by claiming many ids.
                    return ObserveResult.Ignored;
                }

                if (bucket.Nodes.Count < BucketSize)
                {
                    bucket.Nodes.Add(new RoutingNode(id, endPoint, now));
                    bucket.Replacements.RemoveAll(n => n.Id == id);
                    bucket.LastChanged = now;
                    return ObserveResult.Added;
                }

                var bad = bucket.Nodes.FindIndex(n => n.StateAt(now, QuestionableAfter, FailuresForBad) == NodeState.Bad);
                if (bad >= 0)
                {
                    bucket.Nodes[bad] = new RoutingNode(id, endPoint, now);
                    bucket.LastChanged = now;
                    return ObserveResult.Added;
                }

                if (bucket == _buckets[^1] && _buckets.Count < NodeId.Bits)
                {
                    Split();
                    bucket = BucketFor(id);
                    continue;
                }

                bucket.Replacements.RemoveAll(n => n.Id == id || n.EndPoint.Equals(endPoint));
                bucket.Replacements.Add(new RoutingNode(id, endPoint, now));
                if (bucket.Replacements.Count > BucketSize)
                {
                    bucket.Replacements.RemoveAt(0); // The oldest replacement goes first.
                }

                return ObserveResult.Cached;
            }
        }
    }

    /// <summary>
    /// Whether a node with this id would enter the table if it answered a query: its bucket has room, holds a bad node or
    /// can be split. The node uses it to decide whether a querier is worth a ping.
    /// </summary>
    public bool WouldAccept(NodeId id)
    {
        if (id == OwnId)
        {
            return false;
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var bucket = BucketFor(id);
            return !bucket.Nodes.Exists(n => n.Id == id)
                && (bucket.Nodes.Count < BucketSize
                    || bucket.Nodes.Exists(n => n.StateAt(now, QuestionableAfter, FailuresForBad) == NodeState.Bad)
                    || (bucket == _buckets[^1] && _buckets.Count < NodeId.Bits));
        }
    }

    /// <summary>Whether the id is in the table.</summary>
    public bool Contains(NodeId id)
    {
        lock (_gate)
        {
            return BucketFor(id).Nodes.Exists(n => n.Id == id);
        }
    }

    /// <summary>
    /// Records that a node did not answer one of our queries. Once bad, it is replaced by the newest replacement of its
    /// bucket, if there is one (a bad node without a replacement stays until something better comes).
    /// </summary>
    public void Failed(NodeId id)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var bucket = BucketFor(id);
            var index = bucket.Nodes.FindIndex(n => n.Id == id);
            if (index < 0)
            {
                return;
            }

            var node = bucket.Nodes[index];
            node.FailedQueries++;
            if (node.StateAt(now, QuestionableAfter, FailuresForBad) == NodeState.Bad && bucket.Replacements.Count > 0)
            {
                bucket.Nodes[index] = bucket.Replacements[^1];
                bucket.Replacements.RemoveAt(bucket.Replacements.Count - 1);
                bucket.LastChanged = now;
            }
        }
    }

    /// <summary>The state of a node in the table, or null if absent.</summary>
    public NodeState? StateOf(NodeId id)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            return BucketFor(id).Nodes.Find(n => n.Id == id)?.StateAt(now, QuestionableAfter, FailuresForBad);
        }
    }

    /// <summary>The questionable nodes of the bucket that would hold <paramref name="id"/>: to ping before a newcomer can replace them.</summary>
    public List<RoutingNode> QuestionableIn(NodeId id)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            return [.. BucketFor(id).Nodes.Where(n => n.StateAt(now, QuestionableAfter, FailuresForBad) == NodeState.Questionable)];
        }
    }

    /// <summary>Up to <paramref name="count"/> nodes closest to <paramref name="target"/> by XOR distance, bad nodes left out.</summary>
    public List<RoutingNode> Closest(NodeId target, int count)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            return [.. _buckets.SelectMany(b => b.Nodes)
                .Where(n => n.StateAt(now, QuestionableAfter, FailuresForBad) != NodeState.Bad)
                .OrderBy(n => n.Id.Xor(target))
                .Take(count)];
        }
    }

    /// <summary>Every node in the table with its state now.</summary>
    public List<(RoutingNode Node, NodeState State)> Snapshot()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            return [.. _buckets.SelectMany(b => b.Nodes).Select(n => (n, n.StateAt(now, QuestionableAfter, FailuresForBad)))];
        }
    }

    /// <summary>Nodes per bucket, from the farthest bucket (prefix length 0) to ours.</summary>
    public IReadOnlyList<int> BucketSizes()
    {
        lock (_gate)
        {
            return [.. _buckets.Select(b => b.Nodes.Count)];
        }
    }

    /// <summary>Replacements waiting per bucket, in the same order as <see cref="BucketSizes"/>.</summary>
    public IReadOnlyList<int> ReplacementSizes()
    {
        lock (_gate)
        {
            return [.. _buckets.Select(b => b.Replacements.Count)];
        }
    }

    /// <summary>Prefix lengths of buckets unchanged for <paramref name="age"/>: a lookup of a random id in each refreshes it.</summary>
    public List<int> StaleBuckets(TimeSpan age)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            return [.. Enumerable.Range(0, _buckets.Count).Where(i => now - _buckets[i].LastChanged >= age)];
        }
    }

    private Bucket BucketFor(NodeId id) => _buckets[Math.Min(OwnId.CommonPrefixLength(id), _buckets.Count - 1)];

    /// <summary>Splits the last bucket (the one covering our id): nodes sharing one more bit with us move to a new last bucket.</summary>
    private void Split()
    {
        var depth = _buckets.Count; // The new bucket's nodes share at least this many bits with us.
        var old = _buckets[^1];
        var next = new Bucket(old.LastChanged);
        MoveCloser(old.Nodes, next.Nodes, depth);
        MoveCloser(old.Replacements, next.Replacements, depth);
        _buckets.Add(next);
        // A replacement may now fit where its bucket has room.
        foreach (var bucket in new[] { old, next })
        {
            while (bucket.Nodes.Count < BucketSize && bucket.Replacements.Count > 0)
            {
                bucket.Nodes.Add(bucket.Replacements[^1]);
                bucket.Replacements.RemoveAt(bucket.Replacements.Count - 1);
            }
        }
    }

    private void MoveCloser(List<RoutingNode> from, List<RoutingNode> to, int depth)
    {
        to.AddRange(from.Where(n => OwnId.CommonPrefixLength(n.Id) >= depth));
        from.RemoveAll(n => OwnId.CommonPrefixLength(n.Id) >= depth);
    }

    private sealed class Bucket(DateTimeOffset created)
    {
        public List<RoutingNode> Nodes { get; } = [];

        public List<RoutingNode> Replacements { get; } = [];

        public DateTimeOffset LastChanged { get; set; } = created;
    }
}
