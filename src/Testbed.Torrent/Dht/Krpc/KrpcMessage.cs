using System.Net;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Dht.Krpc;

/// <summary>One KRPC message (BEP 5): a query, a response or an error, matched by its transaction id.</summary>
/// <param name="TransactionId">Opaque bytes chosen by the querier and echoed in the reply.</param>
public abstract record KrpcMessage(byte[] TransactionId);

/// <summary>A query; every query carries the querier's node id.</summary>
/// <param name="TransactionId">Opaque bytes chosen by the querier.</param>
/// <param name="Sender">The querier's node id.</param>
public abstract record KrpcQuery(byte[] TransactionId, NodeId Sender) : KrpcMessage(TransactionId)
{
    /// <summary>The method name on the wire (`ping`, `find_node`, `get_peers`, `announce_peer`).</summary>
    public abstract string Method { get; }
}

/// <summary>`ping`: is the node alive, and what is its id.</summary>
public sealed record PingQuery(byte[] TransactionId, NodeId Sender) : KrpcQuery(TransactionId, Sender)
{
    /// <inheritdoc />
    public override string Method => "ping";
}

/// <summary>`find_node`: the k nodes the receiver knows closest to <paramref name="Target"/>.</summary>
public sealed record FindNodeQuery(byte[] TransactionId, NodeId Sender, NodeId Target) : KrpcQuery(TransactionId, Sender)
{
    /// <inheritdoc />
    public override string Method => "find_node";
}

/// <summary>`get_peers`: peers of an info hash if the receiver stores any, else closer nodes; always a write token.</summary>
public sealed record GetPeersQuery(byte[] TransactionId, NodeId Sender, InfoHash InfoHash) : KrpcQuery(TransactionId, Sender)
{
    /// <inheritdoc />
    public override string Method => "get_peers";
}

/// <summary>`announce_peer`: store the querier as a peer of an info hash, proven by a token from an earlier `get_peers`.</summary>
/// <param name="TransactionId">Opaque bytes chosen by the querier.</param>
/// <param name="Sender">The querier's node id.</param>
/// <param name="InfoHash">The torrent.</param>
/// <param name="Port">The peer's port (ignored when <paramref name="ImpliedPort"/>).</param>
/// <param name="Token">The token the receiver gave the querier.</param>
/// <param name="ImpliedPort">Use the UDP source port instead of <paramref name="Port"/> (peers behind NAT, uTP).</param>
public sealed record AnnouncePeerQuery(byte[] TransactionId, NodeId Sender, InfoHash InfoHash, int Port, byte[] Token, bool ImpliedPort)
    : KrpcQuery(TransactionId, Sender)
{
    /// <inheritdoc />
    public override string Method => "announce_peer";
}

/// <summary>
/// A response. The wire does not say which query it answers (the transaction id does), so one record carries every
/// response field: `nodes` (find_node, get_peers), `values` and `token` (get_peers).
/// </summary>
/// <param name="TransactionId">The query's transaction id.</param>
/// <param name="Sender">The responder's node id.</param>
/// <param name="Nodes">Compact node info, if present.</param>
/// <param name="Values">Compact IPv4 peers, if present.</param>
/// <param name="Token">The write token, if present.</param>
public sealed record KrpcResponse(
    byte[] TransactionId,
    NodeId Sender,
    IReadOnlyList<NodeInfo>? Nodes = null,
    IReadOnlyList<IPEndPoint>? Values = null,
    byte[]? Token = null) : KrpcMessage(TransactionId);

/// <summary>An error reply: a code (see <see cref="KrpcErrorCode"/>) and a message.</summary>
public sealed record KrpcError(byte[] TransactionId, int Code, string Message) : KrpcMessage(TransactionId);

/// <summary>The error codes BEP 5 defines.</summary>
public static class KrpcErrorCode
{
    /// <summary>Generic error.</summary>
    public const int Generic = 201;

    /// <summary>Server error.</summary>
    public const int Server = 202;

    /// <summary>Protocol error: malformed packet, invalid arguments or bad token.</summary>
    public const int Protocol = 203;

    /// <summary>Method unknown.</summary>
    public const int MethodUnknown = 204;
}

/// <summary>A node as `find_node` and `get_peers` return it: id and IPv4 endpoint (26 bytes compact).</summary>
public sealed record NodeInfo(NodeId Id, IPEndPoint EndPoint);
