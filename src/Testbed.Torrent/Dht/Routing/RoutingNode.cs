using System.Net;

namespace Testbed.Torrent.Dht.Routing;

/// <summary>BEP 5's node states: good nodes are served and kept, questionable ones pinged, bad ones replaced.</summary>
public enum NodeState
{
    /// <summary>Answered one of our queries in the last 15 minutes, or has answered once and queried us in the last 15 minutes.</summary>
    Good,

    /// <summary>Neither good nor bad: quiet for 15 minutes.</summary>
    Questionable,

    /// <summary>Failed to answer several of our queries in a row.</summary>
    Bad,
}

/// <summary>A routing table entry: a node that has answered us at least once, and when it was last heard of.</summary>
public sealed class RoutingNode(NodeId id, IPEndPoint endPoint, DateTimeOffset now)
{
    /// <summary>The node's id.</summary>
    public NodeId Id { get; } = id;

    /// <summary>Where it answered from.</summary>
    public IPEndPoint EndPoint { get; } = endPoint;

    /// <summary>When it last answered one of our queries.</summary>
    public DateTimeOffset LastResponse { get; internal set; } = now;

    /// <summary>When it last sent us a query (default if never).</summary>
    public DateTimeOffset LastQuery { get; internal set; }

    /// <summary>Our queries it failed to answer since its last answer.</summary>
    public int FailedQueries { get; internal set; }

    /// <summary>The latest time it was heard of.</summary>
    public DateTimeOffset LastSeen => LastResponse > LastQuery ? LastResponse : LastQuery;

    /// <summary>Its state at <paramref name="now"/>, by the rules of BEP 5 (<paramref name="window"/> is 15 minutes there).</summary>
    public NodeState StateAt(DateTimeOffset now, TimeSpan window, int failuresForBad)
    {
        if (FailedQueries >= failuresForBad)
        {
            return NodeState.Bad;
        }

        // Every node in the table has answered at least once, so a recent query from it also makes it good.
        return now - LastResponse < window || now - LastQuery < window ? NodeState.Good : NodeState.Questionable;
    }
}
