namespace Testbed.Torrent.Dht;

/// <summary>Counters of one <see cref="DhtNode"/>, for logs, tests and the periodic status line.</summary>
public sealed class DhtStatistics
{
    private long _queriesAnswered;
    private long _queriesDropped;
    private long _datagramsRefused;
    private long _errorsSent;
    private long _repliesTrimmed;
    private long _announcesStored;

    /// <summary>Queries answered with a response.</summary>
    public long QueriesAnswered => Interlocked.Read(ref _queriesAnswered);

    /// <summary>Queries dropped by a rate limit.</summary>
    public long QueriesDropped => Interlocked.Read(ref _queriesDropped);

    /// <summary>Datagrams refused without a reply (garbage, out of bounds, unsolicited replies).</summary>
    public long DatagramsRefused => Interlocked.Read(ref _datagramsRefused);

    /// <summary>KRPC errors sent (bad arguments, unknown method, bad token).</summary>
    public long ErrorsSent => Interlocked.Read(ref _errorsSent);

    /// <summary>Answers to unverified addresses trimmed to the amplification bound.</summary>
    public long RepliesTrimmed => Interlocked.Read(ref _repliesTrimmed);

    /// <summary>announce_peer queries accepted.</summary>
    public long AnnouncesStored => Interlocked.Read(ref _announcesStored);

    internal void Answered() => Interlocked.Increment(ref _queriesAnswered);

    internal void Dropped() => Interlocked.Increment(ref _queriesDropped);

    internal void Refused() => Interlocked.Increment(ref _datagramsRefused);

    internal void ErrorSent() => Interlocked.Increment(ref _errorsSent);

    internal void Trimmed() => Interlocked.Increment(ref _repliesTrimmed);

    internal void Stored() => Interlocked.Increment(ref _announcesStored);
}
