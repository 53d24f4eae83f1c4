using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Testbed.Torrent.Messages;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.PeerWire;

namespace Testbed.Torrent.Sessions;

/// <summary>
/// A BitTorrent client: one listening socket and one peer id shared by many torrent sessions (a testbed peer
/// moves one small torrent per block). Incoming handshakes are routed to the session of their info hash.
/// </summary>
public sealed class TorrentClient : IAsyncDisposable
{
    private readonly ConcurrentDictionary<InfoHash, TorrentSession> _sessions = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _pendingHandshakes;
    private Socket? _listener;
    private Task? _acceptLoop;

    /// <summary>Creates a client; call <see cref="Start"/> to listen.</summary>
    public TorrentClient(TorrentClientOptions? options = null)
    {
        Options = options ?? new TorrentClientOptions();
        PeerId = Options.PeerId ?? Handshake.NewPeerId();
        if (PeerId.Length != 20)
        {
            throw new ArgumentException("a peer id is 20 bytes", nameof(options));
        }

        _pendingHandshakes = new SemaphoreSlim(Options.MaxPendingHandshakes);
    }

    /// <summary>The client's settings.</summary>
    public TorrentClientOptions Options { get; }

    /// <summary>Our peer id.</summary>
    public byte[] PeerId { get; }

    /// <summary>The bound listening endpoint, once started.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>The sessions currently added.</summary>
    public IReadOnlyCollection<TorrentSession> Sessions => [.. _sessions.Values];

    /// <summary>Binds the listening socket (if any) and starts accepting peers.</summary>
    public void Start()
    {
        if (Options.ListenEndPoint is null || _listener is not null)
        {
            return;
        }

        var socket = new Socket(Options.ListenEndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        Tune(socket);
        socket.Bind(Options.ListenEndPoint);
        socket.Listen(128);
        _listener = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _acceptLoop = Task.Run(() => AcceptLoopAsync(socket, _stopping.Token));
    }

    /// <summary>Adds a torrent whose metadata we have (to seed it, download it, or both).</summary>
    /// <remarks>
    /// A v2 or hybrid torrent needs <paramref name="pieceLayers"/> (from its .torrent) for its files longer than one piece:
    /// every piece is checked against them before it is written. A hybrid's pieces are checked against both hashes.
    /// </remarks>
    public TorrentSession Add(TorrentInfo info, string directory, TorrentSessionOptions? options = null, IReadOnlyList<IReadOnlyList<string>>? trackerTiers = null, IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>>? pieceLayers = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.Version == TorrentVersion.V2)
        {
            // Refused now rather than at start: a v2-only file longer than one piece cannot be checked without its piece layer.
            _ = Storage.TorrentLayout.FromInfo(info, pieceLayers);
        }

        var session = new TorrentSession(this, info.InfoHash, info, directory, options ?? new TorrentSessionOptions(), trackerTiers ?? [], pieceLayers);
        Register(session);
        return session;
    }

    /// <summary>Adds a torrent from its metainfo, announcing to the metainfo's trackers.</summary>
    public TorrentSession Add(TorrentMetainfo metainfo, string directory, TorrentSessionOptions? options = null) =>
        Add(metainfo.Info, directory, options, metainfo.TrackerTiers, metainfo.PieceLayers);

    /// <summary>Adds a torrent known only by its info hash (a magnet link): the metadata comes from peers (BEP 9).</summary>
    /// <remarks>
    /// With <paramref name="infoHashV2"/> (a urn:btmh magnet) the metadata may hash to it instead, and a v2-only torrent's
    /// piece layers are then fetched with BEP 52 hash requests from peers that set the v2 bit, each checked against its pieces root.
    /// </remarks>
    public TorrentSession AddMagnet(InfoHash infoHash, string directory, TorrentSessionOptions? options = null, IReadOnlyList<IReadOnlyList<string>>? trackerTiers = null, InfoHashV2? infoHashV2 = null)
    {
        if (options?.ReadOnly == true)
        {
            throw new ArgumentException("a magnet link has no data to seed yet: read-only sessions need the metainfo", nameof(options));
        }

        var session = new TorrentSession(this, infoHash, null, directory, options ?? new TorrentSessionOptions(), trackerTiers ?? [], magnetV2: infoHashV2);
        Register(session);
        return session;
    }

    private void Register(TorrentSession session)
    {
        if (!_sessions.TryAdd(session.InfoHash, session))
        {
            throw new InvalidOperationException($"torrent {session.InfoHash} is already added");
        }

        // A hybrid is in two swarms: a handshake naming its truncated v2 hash reaches the same session (BEP 52).
        if (session.InfoHashV2Truncated is { } v2 && v2 != session.InfoHash && !_sessions.TryAdd(v2, session))
        {
            _sessions.TryRemove(new KeyValuePair<InfoHash, TorrentSession>(session.InfoHash, session));
            throw new InvalidOperationException($"torrent {v2} is already added");
        }
    }

    internal void Unregister(TorrentSession session)
    {
        _sessions.TryRemove(new KeyValuePair<InfoHash, TorrentSession>(session.InfoHash, session));
        if (session.InfoHashV2Truncated is { } v2)
        {
            _sessions.TryRemove(new KeyValuePair<InfoHash, TorrentSession>(v2, session));
        }
    }

    private void Tune(Socket socket)
    {
        if (Options.SocketBufferSize is { } size)
        {
            socket.SendBufferSize = size;
            socket.ReceiveBufferSize = size;
        }
    }

    /// <summary>Dials a peer and exchanges handshakes; the connection is returned ready for messages.</summary>
    internal async Task<PeerConnection> ConnectAsync(IPEndPoint endPoint, TorrentSession session, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        cts.CancelAfter(timeout);
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            Tune(socket);
            socket.NoDelay = true;
            if (Options.OutgoingAddress is { } local)
            {
                socket.Bind(new IPEndPoint(local, 0));
            }

            await socket.ConnectAsync(endPoint, cts.Token).ConfigureAwait(false);
            await socket.SendAsync(Handshake.Create(session.InfoHash.ToArray(), PeerId, session.SpeaksV2).ToBytes(), SocketFlags.None, cts.Token).ConfigureAwait(false);
            var remote = Handshake.Parse(await Handshake.ReceiveBytesAsync(socket, cts.Token).ConfigureAwait(false));
            // BEP 52: a peer given a hybrid's v1 hash with the v2 bit set may answer with the v2 hash (upgrading the connection).
            var answered = new InfoHash(remote.InfoHash);
            if (answered != session.InfoHash && answered != session.InfoHashV2Truncated)
            {
                throw new PeerProtocolException($"peer {endPoint} answered for another torrent");
            }

            return new PeerConnection(socket, remote);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync(Socket socket, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            if (!_pendingHandshakes.Wait(0))
            {
                accepted.Dispose();
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await AcceptPeerAsync(accepted, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _pendingHandshakes.Release();
                }
            }, CancellationToken.None);
        }
    }

    private async Task AcceptPeerAsync(Socket socket, CancellationToken cancellationToken)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(Options.HandshakeTimeout);
            Tune(socket);
            var bytes = await Handshake.ReceiveBytesAsync(socket, cts.Token).ConfigureAwait(false);
            var remote = Handshake.Parse(bytes);
            if (!_sessions.TryGetValue(new InfoHash(remote.InfoHash), out var session) || !session.AcceptsPeers)
            {
                socket.Dispose();
                return;
            }

            await socket.SendAsync(Handshake.Create(remote.InfoHash, PeerId, session.SpeaksV2).ToBytes(), SocketFlags.None, cts.Token).ConfigureAwait(false);
            session.Attach(new PeerConnection(socket, remote), dialed: null);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or PeerProtocolException or ObjectDisposedException or IOException)
        {
            socket.Dispose();
        }
    }


    /// <summary>Stops every session and the listener.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        foreach (var session in _sessions.Values)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
        _pendingHandshakes.Dispose();
    }
}
