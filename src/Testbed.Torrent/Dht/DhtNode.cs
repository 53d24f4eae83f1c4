using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Testbed.Torrent.Dht.Krpc;
using Testbed.Torrent.Dht.RateLimiting;
using Testbed.Torrent.Dht.Routing;
using Testbed.Torrent.Dht.Storage;

namespace Testbed.Torrent.Dht;

/// <summary>
/// A Mainline DHT node (BEP 5) on one IPv4 UDP socket: answers ping, find_node, get_peers and announce_peer within rate
/// and size bounds, keeps a k-bucket routing table, stores announced peers, and runs iterative lookups to find and
/// announce peers of an info hash. Start it with <see cref="StartAsync"/>; dispose it to stop (the state file is saved).
/// </summary>
public sealed partial class DhtNode : IAsyncDisposable
{
    private const int ReceiveBufferSize = 65_536; // Larger than any datagram, so an oversized one is seen whole and refused.
    private const int MaxVerifiedEndPoints = 10_000;
    private const int MaxConcurrentVerifications = 16;

    private readonly DhtNodeOptions _options;
    private readonly Socket _socket;
    private readonly TimeProvider _time;
    private readonly TokenManager _tokens;
    private readonly PeerStore _peers;
    private readonly QueryRateLimiter _limiter;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<ushort, PendingQuery> _pending = new();
    private readonly ConcurrentDictionary<IPEndPoint, byte> _verified = new();
    private readonly ConcurrentDictionary<IPEndPoint, byte> _verifying = new();
    private readonly SemaphoreSlim _verificationSlots = new(MaxConcurrentVerifications, MaxConcurrentVerifications);
    private readonly SemaphoreSlim _saveGate = new(1, 1);
    private Task _receiveLoop = Task.CompletedTask;
    private Task _maintenanceLoop = Task.CompletedTask;
    private int _nextTransaction = RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
    private int _disposed;
    private bool _started;

    private DhtNode(DhtNodeOptions options, Socket socket, NodeId id)
    {
        _options = options;
        _socket = socket;
        _time = options.TimeProvider;
        Id = id;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        RoutingTable = new RoutingTable(id, _time, options.BucketSize);
        _tokens = new TokenManager(_time, options.TokenRotation);
        _peers = new PeerStore(_time, options.PeerStore);
        _limiter = new QueryRateLimiter(options.PerAddressQueryLimit, options.GlobalQueryLimit, _time);
    }

    /// <summary>Our node id.</summary>
    public NodeId Id { get; }

    /// <summary>The bound UDP endpoint.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The routing table.</summary>
    public RoutingTable RoutingTable { get; }

    /// <summary>Nodes in the routing table.</summary>
    public int RoutingTableCount => RoutingTable.Count;

    /// <summary>Counters of queries answered, dropped and refused.</summary>
    public DhtStatistics Statistics { get; } = new();

    /// <summary>Info hashes with peers announced to this node.</summary>
    public int StoredInfoHashCount => _peers.InfoHashCount;

    /// <summary>
    /// Binds the socket, loads the state file (a torn or foreign one is logged and ignored), pings the saved nodes and
    /// bootstraps from <see cref="DhtNodeOptions.Bootstrap"/>. Every wait is bounded by the query timeouts.
    /// </summary>
    public static async Task<DhtNode> StartAsync(DhtNodeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Listen);
        if (options.Listen.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"{options.Listen} is not an IPv4 endpoint; this DHT node speaks IPv4 only", nameof(options));
        }

        var state = options.StatePath is { } path ? DhtState.TryLoad(path, options.Log) : null;
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // Room for bursts (a lookup's answers, many nodes bootstrapping at once) while the receive loop catches up.
            socket.ReceiveBufferSize = 1 << 20;
            socket.Bind(options.Listen);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var node = new DhtNode(options, socket, options.NodeId ?? state?.Id ?? NodeId.Random());
        node._receiveLoop = Task.Run(node.ReceiveLoopAsync, CancellationToken.None);
        node._maintenanceLoop = Task.Run(node.MaintenanceLoopAsync, CancellationToken.None);
        try
        {
            if (state is { Nodes.Count: > 0 })
            {
                await node.PingAllAsync(state.Nodes.Select(n => n.EndPoint), cancellationToken).ConfigureAwait(false);
            }

            var bootstrap = options.Bootstrap.Where(e => !e.Equals(node.LocalEndPoint)).ToList();
            if (bootstrap.Count > 0 || node.RoutingTableCount > 0)
            {
                await node.BootstrapAsync(bootstrap, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        node._started = true;
        return node;
    }

    /// <summary>Pings <paramref name="endPoints"/> (they enter the table when they answer), then looks up our own id to fill the table.</summary>
    public async Task BootstrapAsync(IEnumerable<IPEndPoint> endPoints, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoints);
        await PingAllAsync(endPoints.Where(e => !e.Equals(LocalEndPoint)), cancellationToken).ConfigureAwait(false);
        await FindNodeAsync(Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pings one endpoint; its node id, or null when it does not answer.</summary>
    public async Task<NodeId?> PingAsync(IPEndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var response = await QueryAsync(endPoint, null, tid => new PingQuery(tid, Id), cancellationToken).ConfigureAwait(false);
        return response?.Sender;
    }

    /// <summary>
    /// Writes the state file now (our id and good nodes), atomically. A no-op without <see cref="DhtNodeOptions.StatePath"/>,
    /// and while no node is good if the file already holds our id with nodes (those are kept for the next start).
    /// </summary>
    public async Task SaveStateAsync(CancellationToken cancellationToken = default)
    {
        if (_options.StatePath is not { } path)
        {
            return;
        }

        await _saveGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var good = RoutingTable.Snapshot().Where(s => s.State == NodeState.Good).Select(s => new NodeInfo(s.Node.Id, s.Node.EndPoint)).ToList();
            if (good.Count == 0 && DhtState.TryLoad(path, log: null) is { Nodes.Count: > 0 } previous && previous.Id == Id)
            {
                // Isolated for now (network down, start interrupted): the previous run's nodes are a better start than none.
                return;
            }

            await DhtState.SaveAsync(path, new DhtState(Id, good), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _options.Log?.Invoke($"dht: could not save the state file {path}: {e.Message}");
        }
        finally
        {
            _saveGate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _maintenanceLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (_started)
        {
            // A start that failed or was cancelled has learned nothing worth writing over the file.
            await SaveStateAsync(CancellationToken.None).ConfigureAwait(false);
        }

        _socket.Dispose();
        try
        {
            await _receiveLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var query in _pending.Values)
        {
            query.Reply.TrySetResult(null);
        }

        _stopping.Dispose();
    }

    private async Task PingAllAsync(IEnumerable<IPEndPoint> endPoints, CancellationToken cancellationToken)
    {
        // At most 16 pings at a time: a long saved list must not burst hundreds of datagrams.
        using var slots = new SemaphoreSlim(16, 16);
        var pings = endPoints.Distinct().Take(512).Select(async endPoint =>
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await PingAsync(endPoint, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        }).ToList();
        await Task.WhenAll(pings).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a query and waits for its reply, retrying up to <see cref="DhtNodeOptions.QueryAttempts"/> times. An answer
    /// verifies the endpoint and enters its node in the table; no answer counts against <paramref name="expected"/>.
    /// </summary>
    private async Task<KrpcResponse?> QueryAsync(IPEndPoint to, NodeId? expected, Func<byte[], KrpcQuery> build, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        for (var attempt = 0; attempt < _options.QueryAttempts; attempt++)
        {
            var (key, query) = Register(to);
            try
            {
                var datagram = KrpcCodec.Encode(build(TransactionBytes(key)));
                await _socket.SendToAsync(datagram, SocketFlags.None, to, linked.Token).ConfigureAwait(false);
                using var timeout = new CancellationTokenSource(_options.QueryTimeout, _time);
                using var both = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, linked.Token);
                KrpcMessage? reply;
                try
                {
                    reply = await query.Reply.Task.WaitAsync(both.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !linked.IsCancellationRequested)
                {
                    continue;
                }

                switch (reply)
                {
                    case KrpcResponse response when response.Sender != Id:
                        Verified(to);
                        if (RoutingTable.Observe(response.Sender, to, responded: true) == ObserveResult.Cached)
                        {
                            // A full bucket: its questionable members are pinged; those that fail make room for the newcomer.
                            foreach (var stale in RoutingTable.QuestionableIn(response.Sender))
                            {
                                CheckInBackground(stale.Id, stale.EndPoint);
                            }
                        }

                        return response;
                    case KrpcError:
                        Verified(to); // It answered from that address, though not with what we asked for.
                        return null;
                    default:
                        return null; // Our own id answering (a loop back to ourselves), or the node is stopping.
                }
            }
            catch (SocketException)
            {
                // Unreachable or refused: the same as no answer.
            }
            finally
            {
                _pending.TryRemove(key, out _);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (expected is { } id)
        {
            RoutingTable.Failed(id);
        }

        return null;
    }

    private (ushort Key, PendingQuery Query) Register(IPEndPoint to)
    {
        while (true)
        {
            var key = (ushort)Interlocked.Increment(ref _nextTransaction);
            var query = new PendingQuery(to);
            if (_pending.TryAdd(key, query))
            {
                return (key, query);
            }
        }
    }

    private static byte[] TransactionBytes(ushort key)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, key);
        return bytes;
    }

    private void Verified(IPEndPoint endPoint)
    {
        if (_verified.Count >= MaxVerifiedEndPoints)
        {
            // Bounded: forgetting is safe (an address is verified again when it next answers), growing is not.
            _verified.Clear();
        }

        _verified[endPoint] = 0;
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[ReceiveBufferSize];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted or SocketError.Shutdown)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // An ICMP error reported on the socket: nothing to do with the next datagram.
            }

            var source = (IPEndPoint)received.RemoteEndPoint;
            try
            {
                await HandleDatagramAsync(buffer.AsMemory(0, received.ReceivedBytes).ToArray(), source).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The reply could not be sent; the next datagram is independent.
            }
        }
    }

    private async Task HandleDatagramAsync(byte[] datagram, IPEndPoint source)
    {
        if (!KrpcCodec.TryDecode(datagram, out var message, out var refusal))
        {
            if (refusal is not { ReplyCode: { } code, TransactionId: { } transactionId })
            {
                Statistics.Refused(); // Garbage gets no reply at all: an answer would tell a scanner there is something here.
            }
            else if (!_limiter.TryAcquire(source.Address))
            {
                Statistics.Dropped(); // A bad query counts against the sender's rate like any other.
            }
            else
            {
                await SendErrorAsync(source, transactionId, code, refusal.Kind == KrpcRefusalKind.UnknownMethod ? "method unknown" : "invalid arguments").ConfigureAwait(false);
            }

            return;
        }

        switch (message)
        {
            case KrpcQuery query:
                if (!_limiter.TryAcquire(source.Address))
                {
                    Statistics.Dropped();
                    return;
                }

                await HandleQueryAsync(query, source, datagram.Length).ConfigureAwait(false);
                break;
            default:
                // A reply: it must match a query we sent, to that very endpoint; anything else is unsolicited.
                if (message.TransactionId.Length == 2
                    && _pending.TryGetValue(BinaryPrimitives.ReadUInt16BigEndian(message.TransactionId), out var waiting)
                    && waiting.To.Equals(source))
                {
                    waiting.Reply.TrySetResult(message);
                }
                else
                {
                    Statistics.Refused();
                }

                break;
        }
    }

    private async Task MaintenanceLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.MaintenanceInterval, _time);
        while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
        {
            try
            {
                await MaintainAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                _options.Log?.Invoke($"dht: maintenance failed: {e.Message}");
            }
        }
    }

    /// <summary>One maintenance round: ping questionable nodes (twice before they count as bad), refresh stale buckets, save.</summary>
    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        var questionable = RoutingTable.Snapshot().Where(s => s.State == NodeState.Questionable).Select(s => s.Node).ToList();
        await Task.WhenAll(questionable.Select(n => QueryAsync(n.EndPoint, n.Id, tid => new PingQuery(tid, Id), cancellationToken))).ConfigureAwait(false);
        foreach (var prefix in RoutingTable.StaleBuckets(_options.BucketRefresh))
        {
            await FindNodeAsync(Id.RandomWithPrefix(prefix), cancellationToken).ConfigureAwait(false);
        }

        await SaveStateAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed class PendingQuery(IPEndPoint to)
    {
        public IPEndPoint To { get; } = to;

        public TaskCompletionSource<KrpcMessage?> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
