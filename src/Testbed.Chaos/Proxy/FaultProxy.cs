using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Testbed.Chaos.Proxy;

/// <summary>
/// The fault proxy on every peer-to-peer path. For each node it mirrors the node's ports on the node's public address;
/// a connection's source is the node whose private address dialled, its destination the node whose mirror was dialled.
/// The upstream socket is bound to the source's public address, so the destination sees (and dials back) the proxy.
/// Data in each direction passes the <see cref="LinkTable"/>'s partitions and toxics.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ProxyNode> _nodes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Node, int Port), Mirror> _mirrors = new();
    private readonly ConcurrentDictionary<ProxiedConnection, byte> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;

    /// <summary>A proxy applying <paramref name="links"/>.</summary>
    public FaultProxy(LinkTable links, ILogger? logger = null)
    {
        Links = links;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Time allowed to reach the destination's real port.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The partitions and toxics in force.</summary>
    public LinkTable Links { get; }

    /// <summary>The nodes known to the proxy.</summary>
    public IReadOnlyList<ProxyNode> Nodes => [.. _nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal)];

    /// <summary>The open connections.</summary>
    public IReadOnlyList<ProxyConnectionInfo> Connections => [.. _connections.Keys.Select(c => c.Info)];

    /// <summary>The mirrored (node, port) pairs.</summary>
    public IReadOnlyList<(string Node, int Port)> Mirrors => [.. _mirrors.Keys];

    /// <summary>Adds (or replaces) a node.</summary>
    public void AddNode(ProxyNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        _nodes[node.Name] = node;
    }

    /// <summary>The node that binds <paramref name="address"/>, if exactly one does.</summary>
    public ProxyNode? Identify(IPAddress address)
    {
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        var matches = _nodes.Values.Where(node => node.PrivateAddress.Equals(plain)).Take(2).ToArray();
        return matches.Length == 1 ? matches[0] : null;
    }

    /// <summary>Listens on the node's public address at <paramref name="port"/> and forwards to its private address (idempotent).</summary>
    public IPEndPoint Expose(string node, int port)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        var target = _nodes.TryGetValue(node, out var known) ? known : throw new ArgumentException($"unknown node '{node}'", nameof(node));
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        var mirror = _mirrors.GetOrAdd((node, port), key => new Mirror(this, target, key.Port));
        return mirror.EndPoint;
    }

    /// <summary>
    /// Mirrors every listener a node reports (its /status swarm and torrent endpoints) that is bound to the node's private
    /// address; a listener elsewhere bypasses the proxy and is left alone. A port already taken on the public address is
    /// skipped, to be tried again at the next report.
    /// </summary>
    public void MirrorListeners(string node, params IPEndPoint?[] listeners)
    {
        if (!_nodes.TryGetValue(node, out var known))
        {
            return;
        }

        foreach (var listener in listeners)
        {
            if (listener is not null && listener.Address.Equals(known.PrivateAddress))
            {
                try
                {
                    Expose(node, listener.Port);
                }
                catch (SocketException)
                {
                }
            }
        }
    }

    /// <summary>Stops mirroring a port (open connections stay until they end).</summary>
    public void Unexpose(string node, int port)
    {
        if (_mirrors.TryRemove((node, port), out var mirror))
        {
            mirror.Dispose();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var mirror in _mirrors.Values)
        {
            mirror.Dispose();
        }

        _mirrors.Clear();
        foreach (var connection in _connections.Keys)
        {
            connection.Abort(reset: false);
        }

        _stopping.Dispose();
    }

    private async Task HandleAsync(Socket client, ProxyNode destination, int port)
    {
        var remote = (IPEndPoint)client.RemoteEndPoint!;
        var source = Identify(remote.Address);
        var sourceName = source?.Name ?? remote.Address.ToString();
        if (sourceName == destination.Name)
        {
            // A node dialling its own advertised address: refuse, as a node never talks to itself.
            client.Dispose();
            return;
        }

        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            if (source is not null)
            {
                upstream.Bind(new IPEndPoint(source.PublicAddress, 0));
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(ConnectTimeout);
            await upstream.ConnectAsync(new IPEndPoint(destination.PrivateAddress, port), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The destination is down: the dialler sees a reset, as it would from a closed port.
            _logger.LogDebug("proxy {Source}->{Destination}:{Port} upstream failed: {Error}", sourceName, destination.Name, port, e.Message);
            upstream.Dispose();
            ProxiedConnection.ResetAndDispose(client);
            return;
        }

        var connection = new ProxiedConnection(client, upstream, sourceName, destination.Name, port, Links);
        _connections.TryAdd(connection, 0);
        try
        {
            await connection.RunAsync(_stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
        }
    }

    private sealed class Mirror : IDisposable
    {
        private readonly Socket _listener;

        public Mirror(FaultProxy proxy, ProxyNode node, int port)
        {
            _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                _listener.Bind(new IPEndPoint(node.PublicAddress, port));
                _listener.Listen(128);
            }
            catch
            {
                _listener.Dispose();
                throw;
            }

            EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
            _ = AcceptLoopAsync(proxy, node, port);
        }

        public IPEndPoint EndPoint { get; }

        public void Dispose() => _listener.Dispose();

        private async Task AcceptLoopAsync(FaultProxy proxy, ProxyNode node, int port)
        {
            while (!proxy._stopping.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptAsync(proxy._stopping.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
                {
                    return;
                }
                catch (SocketException)
                {
                    continue;
                }

                _ = Task.Run(() => proxy.HandleAsync(client, node, port));
            }
        }
    }
}

/// <summary>One proxied connection as reports show it.</summary>
public sealed record ProxyConnectionInfo(string Source, string Destination, int Port, long BytesForward, long BytesBackward, DateTimeOffset OpenedAt);
