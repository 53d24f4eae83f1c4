using System.Net;
using Testbed.Torrent.Dht.RateLimiting;
using Testbed.Torrent.Dht.Storage;

namespace Testbed.Torrent.Dht;

/// <summary>How a <see cref="DhtNode"/> listens, where it starts from, and every bound it keeps.</summary>
/// <param name="Listen">The IPv4 endpoint to bind (port 0: any free port).</param>
public sealed record DhtNodeOptions(IPEndPoint Listen)
{
    /// <summary>Nodes to bootstrap from at start (after the nodes of the state file, if any).</summary>
    public IReadOnlyList<IPEndPoint> Bootstrap { get; init; } = [];

    /// <summary>File holding our id and good nodes across restarts; none when null.</summary>
    public string? StatePath { get; init; }

    /// <summary>Our id; when null, the state file's id or else a random one.</summary>
    public NodeId? NodeId { get; init; }

    /// <summary>The `testbed.peer` attribute of this node's `dht.lookup` spans, when set.</summary>
    public string? PeerName { get; init; }

    /// <summary>Clock of every timer, expiry and rate limit (tests pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Receives warnings (a state file that could not be read or written) and notable events, one line each.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>How long to wait for an answer to one query datagram.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Datagrams sent per query before the node counts as not answering (1 retry by default).</summary>
    public int QueryAttempts { get; init; } = 2;

    /// <summary>k: nodes per bucket, and nodes a lookup converges on.</summary>
    public int BucketSize { get; init; } = 8;

    /// <summary>How far one lookup goes: queries in flight, queries in all, peers collected.</summary>
    public LookupLimits Lookup { get; init; } = new();

    /// <summary>How many announced peers the node stores, and for how long.</summary>
    public PeerStoreLimits PeerStore { get; init; } = new();

    /// <summary>How often the write-token secret rotates (tokens of the previous secret are still accepted).</summary>
    public TimeSpan TokenRotation { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Queries per second, and burst, accepted from one IP address. High enough for a loopback test of about 20 nodes on one
    /// address bootstrapping at once (each lookup sends a few dozen queries), low enough that one host cannot take the node over.
    /// </summary>
    public TokenBucketLimit PerAddressQueryLimit { get; init; } = new(Rate: 200, Burst: 400);

    /// <summary>Queries per second, and burst, the node answers in all.</summary>
    public TokenBucketLimit GlobalQueryLimit { get; init; } = new(Rate: 2000, Burst: 4000);

    /// <summary>
    /// An answer to an address that has never answered one of our queries is at most this many times the size of its
    /// query (nodes and values are trimmed to fit), so a forged source address cannot turn this node into an amplifier.
    /// </summary>
    public double AmplificationFactor { get; init; } = 3;

    /// <summary>How often the node pings questionable nodes, refreshes stale buckets and saves its state.</summary>
    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>A bucket untouched this long is refreshed with a lookup of a random id in its range.</summary>
    public TimeSpan BucketRefresh { get; init; } = TimeSpan.FromMinutes(15);
}
