using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Testbed.Ledger;
using Testbed.Peer.Network.Messages;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Messages;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.PeerWire;

namespace Testbed.Peer.Network;

/// <summary>What the node does with swarm events.</summary>
public interface ISwarmHandler
{
    /// <summary>Extension handshake values we send (besides `m` and `p`).</summary>
    void AddHandshakeFields(BencodeDictionary handshake);

    /// <summary>A peer finished its extension handshake.</summary>
    void OnPeerReady(SwarmPeer peer);
}

/// <summary>Where the swarm learned of network members.</summary>
public enum MemberSource
{
    /// <summary>The tracker's peer list (<see cref="TrackerMembership"/>).</summary>
    Tracker,

    /// <summary>A DHT lookup of the network info hash (<see cref="DhtDiscovery"/>).</summary>
    Dht,
}

/// <summary>
/// The network-wide swarm: every peer announces one info hash (derived from the genesis block) to the tracker and the
/// DHT, so their peer lists are the membership; peers connect to each other with ordinary BitTorrent handshakes for that info
/// hash and then talk BEP 10 extension messages (block announcements, transactions, catch-up).
/// </summary>
public sealed class NetworkSwarm : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, SwarmPeer> _peers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IPEndPoint, byte> _dialing = new();
    private readonly ConcurrentDictionary<string, string> _bannedIds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IPEndPoint, byte> _bannedEndPoints = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _background = [];
    private readonly ConcurrentDictionary<MemberSource, IReadOnlyList<IPEndPoint>> _members = new();
    private readonly ConcurrentDictionary<Type, Action<SwarmPeer, SwarmMessage>> _handlers = new();
    private readonly ISwarmHandler _handler;
    private readonly ILogger _logger;
    private readonly WireLimits _limits = new(0, SwarmMessages.MaxMessageBytes);
    private Socket? _listener;

    /// <summary>Creates the swarm for a network (its genesis hash) with our peer id.</summary>
    public NetworkSwarm(Hash256 genesis, byte[] peerId, ISwarmHandler handler, ILogger logger)
    {
        InfoHash = NetworkInfoHash(genesis);
        PeerId = peerId;
        _handler = handler;
        _logger = logger;
    }

    /// <summary>The network's info hash: SHA-1 of "testbed-network:" and the genesis hash.</summary>
    public InfoHash InfoHash { get; }

    /// <summary>Our peer id.</summary>
    public byte[] PeerId { get; }

    /// <summary>The bound swarm endpoint; outgoing connections are bound to its address too.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Where other peers reach our swarm port when it is not <see cref="LocalEndPoint"/> (behind a fault proxy).</summary>
    public IPEndPoint? AdvertisedEndPoint { get; private set; }

    /// <summary>Connected peers that finished their handshake.</summary>
    public IReadOnlyList<SwarmPeer> Peers => [.. _peers.Values.Where(p => p.Ready)];

    /// <summary>Banned peers: peer id to reason.</summary>
    public IReadOnlyDictionary<string, string> Banned => _bannedIds;

    /// <summary>The network's info hash for a genesis block.</summary>
    public static InfoHash NetworkInfoHash(Hash256 genesis) =>
        new(SHA1.HashData(Encoding.ASCII.GetBytes("testbed-network:" + genesis)));

    /// <summary>
    /// Binds the swarm's listening socket; outgoing connections will be bound to the same address. Others reach us at
    /// <paramref name="advertise"/> (a fault proxy's address, same port) when it is given.
    /// </summary>
    public void Listen(IPAddress address, int port, IPAddress? advertise = null)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(address, port));
        socket.Listen(128);
        _listener = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        AdvertisedEndPoint = advertise is null ? null : new IPEndPoint(advertise, LocalEndPoint.Port);
        _background.Add(Task.Run(() => AcceptLoopAsync(socket, _stopping.Token)));
    }

    /// <summary>Dials the network members <paramref name="source"/> found; they are redialled until it reports others (<see cref="StartRedialling"/>).</summary>
    public void DialFound(MemberSource source, IReadOnlyList<IPEndPoint> found)
    {
        _members[source] = found;
        DialAll(found);
    }

    /// <summary>
    /// Redials the last peer lists of the tracker and the DHT every <paramref name="period"/> until stopped, so a member
    /// that refused us (not listening yet, or its fault proxy not yet in place) is joined within a period rather than an
    /// announce interval.
    /// </summary>
    public void StartRedialling(TimeSpan period)
    {
        _background.Add(Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(period);
            try
            {
                while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
                {
                    DialAll(_members.Values.SelectMany(found => found));
                }
            }
            catch (OperationCanceledException)
            {
            }
        }));
    }

    private void DialAll(IEnumerable<IPEndPoint> endPoints)
    {
        foreach (var endPoint in endPoints)
        {
            Dial(endPoint);
        }
    }

    // An advertised address is this peer's alone (one loopback address per replica), so any port on it is us: the
    // tracker still lists our previous incarnation's port for a while after a restart.
    private bool IsOwnAdvertisedAddress(IPEndPoint endPoint) => AdvertisedEndPoint is { } own && endPoint.Address.Equals(own.Address);

    /// <summary>Dials a peer unless it is us, banned, already connected or being dialled.</summary>
    public void Dial(IPEndPoint endPoint)
    {
        if (_stopping.IsCancellationRequested || endPoint.Equals(LocalEndPoint) || IsOwnAdvertisedAddress(endPoint) || _bannedEndPoints.ContainsKey(endPoint) ||
            _peers.Values.Any(p => endPoint.Equals(p.SwarmEndPoint)) || !_dialing.TryAdd(endPoint, 0))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                cts.CancelAfter(TimeSpan.FromSeconds(10));
                socket.NoDelay = true;
                socket.Bind(new IPEndPoint(LocalEndPoint!.Address, 0));
                await socket.ConnectAsync(endPoint, cts.Token).ConfigureAwait(false);
                await socket.SendAsync(Handshake.Create(InfoHash.ToArray(), PeerId).ToBytes(), SocketFlags.None, cts.Token).ConfigureAwait(false);
                var remote = Handshake.Parse(await Handshake.ReceiveBytesAsync(socket, cts.Token).ConfigureAwait(false));
                if (new InfoHash(remote.InfoHash) != InfoHash)
                {
                    throw new PeerProtocolException($"{endPoint} answered for another info hash");
                }

                Attach(new PeerConnection(socket, remote), dialedByUs: true);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or PeerProtocolException or IOException or ObjectDisposedException or ArgumentException)
            {
                _logger.LogDebug("dialling {EndPoint} failed: {Error}", endPoint, e.Message);
                socket.Dispose();
            }
            finally
            {
                _dialing.TryRemove(endPoint, out _);
            }
        });
    }

    /// <summary>
    /// Has <paramref name="handle"/> receive every message of type <typeparamref name="T"/> (or derived from it) from ready
    /// peers: each message type goes to the component that owns it.
    /// </summary>
    public void On<T>(Action<SwarmPeer, T> handle)
        where T : SwarmMessage =>
        _handlers[typeof(T)] = (peer, message) => handle(peer, (T)message);

    /// <summary>Sends a message to every ready peer except those listed; returns the peers it went to.</summary>
    public IReadOnlyList<SwarmPeer> Broadcast(SwarmMessage message, IReadOnlySet<string>? except = null)
    {
        var payload = message.Encode();
        var sent = new List<SwarmPeer>();
        foreach (var peer in Peers)
        {
            if (except?.Contains(peer.PeerId) == true)
            {
                continue;
            }

            if (peer.Send(message.Extension, payload))
            {
                sent.Add(peer);
            }
        }

        return sent;
    }

    /// <summary>Bans a peer: closes its connection and refuses it from now on.</summary>
    public void Ban(SwarmPeer peer, string reason)
    {
        if (_bannedIds.TryAdd(peer.PeerId, $"{peer.Name}: {reason}"))
        {
            _logger.LogWarning("banned peer {Peer}: {Reason}", peer, reason);
        }

        if (peer.SwarmEndPoint is { } ep)
        {
            _bannedEndPoints.TryAdd(ep, 0);
        }

        peer.Close();
    }

    /// <summary>Whether a peer id is banned.</summary>
    public bool IsBanned(string peerId) => _bannedIds.ContainsKey(peerId);

    private async Task AcceptLoopAsync(Socket socket, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    cts.CancelAfter(TimeSpan.FromSeconds(10));
                    accepted.NoDelay = true;
                    var remote = Handshake.Parse(await Handshake.ReceiveBytesAsync(accepted, cts.Token).ConfigureAwait(false));
                    if (new InfoHash(remote.InfoHash) != InfoHash)
                    {
                        accepted.Dispose();
                        return;
                    }

                    await accepted.SendAsync(Handshake.Create(InfoHash.ToArray(), PeerId).ToBytes(), SocketFlags.None, cts.Token).ConfigureAwait(false);
                    Attach(new PeerConnection(accepted, remote), dialedByUs: false);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException or PeerProtocolException or IOException or ObjectDisposedException or ArgumentException)
                {
                    accepted.Dispose();
                }
            }, CancellationToken.None);
        }
    }

    private void Attach(PeerConnection connection, bool dialedByUs)
    {
        var peer = new SwarmPeer(connection, dialedByUs);
        var self = connection.Remote.PeerId.AsSpan().SequenceEqual(PeerId);
        if (self || _bannedIds.ContainsKey(peer.PeerId) || _stopping.IsCancellationRequested || !connection.ExtensionsEnabled)
        {
            _ = connection.DisposeAsync().AsTask();
            return;
        }

        // Two peers may dial each other at once; both keep the connection dialled by the lower peer id.
        var keepNew = true;
        _peers.AddOrUpdate(peer.PeerId, peer, (_, existing) =>
        {
            var preferred = string.CompareOrdinal(DialerId(existing), DialerId(peer)) <= 0 ? existing : peer;
            keepNew = preferred == peer;
            if (keepNew)
            {
                existing.Close();
            }

            return preferred;
        });
        if (!keepNew)
        {
            _ = connection.DisposeAsync().AsTask();
            return;
        }

        var handshake = new BencodeDictionary();
        var m = new BencodeDictionary();
        foreach (var (name, id) in SwarmMessage.LocalIds)
        {
            m.Add(name, (long)id);
        }

        handshake.Add("m", m);
        handshake.Add("p", (long)LocalEndPoint!.Port);
        handshake.Add("v", "Testbed.Peer 0.1");
        _handler.AddHandshakeFields(handshake);
        connection.Send(new ExtendedMessage(0, handshake.Encode()));
        _ = Task.Run(() => RunAsync(peer));
    }

    private string DialerId(SwarmPeer peer) => peer.DialedByUs ? Convert.ToHexStringLower(PeerId) : peer.PeerId;

    private async Task RunAsync(SwarmPeer peer)
    {
        var connection = peer.Connection;
        var writer = Task.Run(async () =>
        {
            try
            {
                await connection.RunWriterAsync(static (_, _) => false, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException or SocketException)
            {
            }
            finally
            {
                connection.Close();
            }
        });
        try
        {
            var reader = connection.Reader;
            while (true)
            {
                var result = await reader.ReadAsync(connection.Closed).ConfigureAwait(false);
                var buffer = result.Buffer;
                var messages = new List<ExtendedMessage>();
                try
                {
                    while (WireCodec.TryRead(ref buffer, _limits, out var message))
                    {
                        if (message is ExtendedMessage extended)
                        {
                            messages.Add(extended);
                        }
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }

                foreach (var message in messages)
                {
                    Dispatch(peer, message);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is PeerProtocolException or BencodeException)
        {
            _logger.LogInformation("swarm peer {Peer} dropped: {Reason}", peer, e.Message);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException or SocketException)
        {
        }
        finally
        {
            connection.Close();
            await writer.ConfigureAwait(false);
            _peers.TryRemove(new KeyValuePair<string, SwarmPeer>(peer.PeerId, peer));
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Dispatch(SwarmPeer peer, ExtendedMessage message)
    {
        var dict = BencodeDecoder.DecodeDictionary(message.Payload, BencodeLimits.Message);
        if (message.ExtendedId == 0)
        {
            peer.ApplyHandshake(dict);
            if (peer.SwarmEndPoint is { } ep && _bannedEndPoints.ContainsKey(ep))
            {
                peer.Close();
                return;
            }

            _handler.OnPeerReady(peer);
            return;
        }

        if (!peer.Ready || SwarmMessage.NameOf(message.ExtendedId) is not { } name)
        {
            return;
        }

        SwarmMessage typed;
        try
        {
            typed = SwarmMessage.Decode(name, dict);
        }
        catch (SwarmMessageException e)
        {
            // A block announcement is what every peer acts on: a malformed one is an attack or a broken peer. Other
            // malformed messages are dropped (a transaction or a catch-up hint may be stale, not malicious).
            if (name == SwarmMessage.Block)
            {
                Ban(peer, e.Message);
            }
            else
            {
                _logger.LogDebug("dropped {Extension} from {Peer}: {Error}", name, peer, e.Message);
            }

            return;
        }

        if (HandlerOf(typed.GetType()) is not { } handle)
        {
            return;
        }

        try
        {
            handle(peer, typed);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogWarning(e, "handling {Message} from {Peer} failed", typed.GetType().Name, peer);
        }
    }

    private Action<SwarmPeer, SwarmMessage>? HandlerOf(Type? type)
    {
        for (; type is not null && type != typeof(object); type = type.BaseType)
        {
            if (_handlers.TryGetValue(type, out var handle))
            {
                return handle;
            }
        }

        return null;
    }

    /// <summary>Closes every connection and the listener; the tracker gets a `stopped` announce.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        foreach (var peer in _peers.Values)
        {
            peer.Close();
        }

        try
        {
            await Task.WhenAll(_background).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _stopping.Dispose();
    }
}
