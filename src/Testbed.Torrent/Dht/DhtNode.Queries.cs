using System.Net;
using System.Net.Sockets;
using Testbed.Torrent.Dht.Krpc;
using Testbed.Torrent.Dht.Routing;

namespace Testbed.Torrent.Dht;

/// <summary>Answering queries: the four BEP 5 methods, tokens, and the amplification bound on answers to unverified addresses.</summary>
public sealed partial class DhtNode
{
    /// <summary>Most peers put in one get_peers answer (about 50 x 8 bytes stays well inside a datagram).</summary>
    private const int MaxValuesPerReply = 50;

    private async Task HandleQueryAsync(KrpcQuery query, IPEndPoint source, int querySize)
    {
        if (query.Sender == Id)
        {
            Statistics.Refused(); // Our own id from elsewhere: a reflection of our own datagram or an impostor.
            return;
        }

        if (RoutingTable.Observe(query.Sender, source, responded: false) == ObserveResult.Ignored && RoutingTable.WouldAccept(query.Sender))
        {
            // A querier we do not know could fit in the table: it enters once it answers a ping of ours (not on its word).
            CheckInBackground(query.Sender, source);
        }

        KrpcResponse response;
        switch (query)
        {
            case PingQuery:
                response = new KrpcResponse(query.TransactionId, Id);
                break;
            case FindNodeQuery find:
                response = new KrpcResponse(query.TransactionId, Id, Nodes: ClosestInfos(find.Target));
                break;
            case GetPeersQuery get:
                var values = _peers.Get(get.InfoHash, MaxValuesPerReply);
                response = values.Count > 0
                    ? new KrpcResponse(query.TransactionId, Id, Values: values, Token: _tokens.Create(source.Address))
                    : new KrpcResponse(query.TransactionId, Id, Nodes: ClosestInfos(NodeId.From(get.InfoHash)), Token: _tokens.Create(source.Address));
                break;
            case AnnouncePeerQuery announce:
                if (!_tokens.IsValid(announce.Token, source.Address))
                {
                    await SendErrorAsync(source, query.TransactionId, KrpcErrorCode.Protocol, "bad token").ConfigureAwait(false);
                    return;
                }

                if (_peers.Add(announce.InfoHash, new IPEndPoint(source.Address, announce.ImpliedPort ? source.Port : announce.Port)))
                {
                    Statistics.Stored();
                }

                response = new KrpcResponse(query.TransactionId, Id);
                break;
            default:
                return;
        }

        var datagram = _verified.ContainsKey(source) ? KrpcCodec.Encode(response) : Bounded(response, querySize);
        if (datagram is null)
        {
            Statistics.Refused();
            return;
        }

        await _socket.SendToAsync(datagram, SocketFlags.None, source).ConfigureAwait(false);
        Statistics.Answered();
    }

    /// <summary>
    /// The encoded answer, trimmed (values first, then nodes, from the end of each list) until it is no larger than
    /// <see cref="DhtNodeOptions.AmplificationFactor"/> times the query; null if even the bare answer is larger.
    /// </summary>
    private byte[]? Bounded(KrpcResponse response, int querySize)
    {
        var limit = (int)(querySize * _options.AmplificationFactor);
        var datagram = KrpcCodec.Encode(response);
        if (datagram.Length <= limit)
        {
            return datagram;
        }

        Statistics.Trimmed();
        var values = response.Values?.ToList();
        var nodes = response.Nodes?.ToList();
        while (datagram.Length > limit)
        {
            var excess = datagram.Length - limit;
            // A value costs 8 bytes ("6:" and 6), a node 26: drop as many as the excess needs at once, from the end.
            if (values is { Count: > 0 })
            {
                DropLast(values, (excess + 7) / 8);
            }
            else if (nodes is { Count: > 0 })
            {
                DropLast(nodes, (excess + 25) / 26);
            }
            else
            {
                return null;
            }

            datagram = KrpcCodec.Encode(response with { Values = values, Nodes = nodes });
        }

        return datagram;
    }

    private static void DropLast<T>(List<T> list, int count)
    {
        var drop = Math.Min(list.Count, Math.Max(1, count));
        list.RemoveRange(list.Count - drop, drop);
    }

    private List<NodeInfo> ClosestInfos(NodeId target) =>
        [.. RoutingTable.Closest(target, _options.BucketSize).Select(n => new NodeInfo(n.Id, n.EndPoint))];

    private async Task SendErrorAsync(IPEndPoint to, byte[] transactionId, int code, string message)
    {
        // Errors are small (a code, a short text, the echoed transaction id of at most 16 bytes): never an amplifier.
        await _socket.SendToAsync(KrpcCodec.Encode(new KrpcError(transactionId, code, message)), SocketFlags.None, to).ConfigureAwait(false);
        Statistics.ErrorSent();
    }

    /// <summary>
    /// Pings a node in the background (a querier to verify, or a questionable member of a full bucket); at most 16 at a
    /// time and one per endpoint, so a flood of queries cannot make this node flood others.
    /// </summary>
    private void CheckInBackground(NodeId id, IPEndPoint endPoint)
    {
        if (endPoint.Equals(LocalEndPoint) || !_verifying.TryAdd(endPoint, 0))
        {
            return;
        }

        if (!_verificationSlots.Wait(0))
        {
            _verifying.TryRemove(endPoint, out _);
            return; // Busy verifying others: this querier gets another chance with its next query.
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await QueryAsync(endPoint, id, tid => new PingQuery(tid, Id), _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
            finally
            {
                _verifying.TryRemove(endPoint, out _);
                _verificationSlots.Release();
            }
        });
    }
}
