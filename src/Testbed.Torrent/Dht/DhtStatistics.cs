namespace Testbed.Torrent.Dht;

/// <summary>Counters of one <see cref="DhtNode"/>, for logs, tests and the periodic status line.</summary>
public sealed class DhtStatistics
{
    private long queriesAnswered;
    private long queriesDropped;
    private long datagramsRefused;
    private long errorsSent;
    private long repliesTrimmed;
    private long announcesStored;

    /// <summary>Queries answered with a response.</summary>
    public long QueriesAnswered => Interlocked.Read(ref queriesAnswered);

    /// <summary>Queries dropped by a rate limit.</summary>
    public long QueriesDropped => Interlocked.Read(ref queriesDropped);

    /// <summary>Datagrams refused without a reply (garbage, out of bounds, unsolicited replies).</summary>
    public long DatagramsRefused => Interlocked.Read(ref datagramsRefused);

    /// <summary>KRPC errors sent (bad arguments, unknown method, bad token).</summary>
    public long ErrorsSent => Interlocked.Read(ref errorsSent);

    /// <summary>Answers to unverified addresses trimmed to the amplification bound.</summary>
    public long RepliesTrimmed => Interlocked.Read(ref repliesTrimmed);

    /// <summary>announce_peer queries accepted.</summary>
    public long AnnouncesStored => Interlocked.Read(ref announcesStored);

    internal void Answered() => Interlocked.Increment(ref queriesAnswered);

    internal void Dropped() => Interlocked.Increment(ref queriesDropped);

    internal void Refused() => Interlocked.Increment(ref datagramsRefused);

    internal void ErrorSent() => Interlocked.Increment(ref errorsSent);

    internal void Trimmed() => Interlocked.Increment(ref repliesTrimmed);

    internal void Stored() => Interlocked.Increment(ref announcesStored);
}
