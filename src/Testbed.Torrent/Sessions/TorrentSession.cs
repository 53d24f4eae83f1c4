using System.Diagnostics;
using System.Net;
using System.Text;
using Testbed.Torrent.Extensions;
using Testbed.Torrent.Messages;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.PeerWire;
using Testbed.Torrent.PiecePicking;
using Testbed.Torrent.Storage;

namespace Testbed.Torrent.Sessions;

/// <summary>
/// One torrent in a <see cref="TorrentClient"/>: downloads what is missing (checking what is on disk first),
/// seeds what it has, and keeps seeding until stopped. Add known peers with <see cref="AddPeer"/>, await
/// <see cref="Completion"/>, dispose to stop. All protocol state is guarded by one lock, including that of its parts:
/// <see cref="SessionPeer"/> (per peer), <see cref="Choker"/> (who we upload to), <see cref="RequestScheduler"/> (what we ask
/// of whom) and <see cref="MetadataExchange"/> (a magnet's info dictionary and piece layers). The session coordinates them.
/// </summary>
public sealed partial class TorrentSession : IAsyncDisposable
{
    private readonly TorrentClient _client;
    private readonly Lock _gate = new();
    private readonly List<SessionPeer> _peers = [];
    private readonly List<Task> _peerTasks = [];
    private readonly HashSet<IPEndPoint> _candidates = [];
    private readonly HashSet<IPEndPoint> _connecting = [];
    private readonly Dictionary<IPEndPoint, long> _lastAttempt = [];
    private readonly HashSet<IPAddress> _banned = [];
    private readonly Dictionary<IPAddress, int> _hashFailures = [];
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _metadataReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly IReadOnlyList<IReadOnlyList<string>> _trackerTiers;
    private readonly Choker _choker;
    private readonly RequestScheduler _scheduler;
    private readonly MetadataExchange _metadataExchange;
    private readonly PiecePipeline _pipeline;
    private IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>> _pieceLayers;
    private PieceStorage? _storage;
    private PiecePicker? _picker;
    private WireLimits _limits;
    private Activity? _downloadActivity;
    private Task? _maintenance;
    private Task? _trackerLoop;
    private Task? _pipelineLoop;
    private long _bytesDown;
    private long _bytesUp;
    private int _started;
    private int _disposed;

    internal TorrentSession(TorrentClient client, InfoHash infoHash, TorrentInfo? info, string directory, TorrentSessionOptions options, IReadOnlyList<IReadOnlyList<string>> trackerTiers, IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>>? pieceLayers = null, InfoHashV2? magnetV2 = null)
    {
        _client = client;
        _pieceLayers = pieceLayers ?? new Dictionary<PiecesRoot, ReadOnlyMemory<byte>>();
        InfoHashV2Truncated = info?.InfoHashV2?.Truncated ?? magnetV2?.Truncated;
        InfoHash = infoHash;
        Info = info;
        Directory = Path.GetFullPath(directory);
        Options = options;
        _trackerTiers = trackerTiers;
        _limits = new WireLimits(info?.PieceCount);
        _choker = new Choker(options);
        _scheduler = new RequestScheduler(options);
        _pipeline = new PiecePipeline(options.MaxVerifyingBytes);
        _metadataExchange = new MetadataExchange(info is null ? new MetadataAssembler(infoHash, magnetV2) : null, InfoHashV2Truncated);
    }

    /// <summary>The torrent's info hash.</summary>
    public InfoHash InfoHash { get; }

    /// <summary>
    /// The truncated v2 info hash of a v2 or hybrid torrent (for v2-only it equals <see cref="InfoHash"/>): a hybrid is
    /// reached and announced under both hashes, as BEP 52 asks of clients that join both swarms.
    /// </summary>
    public InfoHash? InfoHashV2Truncated { get; }

    /// <summary>Whether our handshakes set the BEP 52 v2 bit: the torrent has a v2 half and we hold its merkle hashes.</summary>
    internal bool SpeaksV2 => InfoHashV2Truncated is not null;

    /// <summary>The info dictionary (null until fetched from peers, for a magnet).</summary>
    public TorrentInfo? Info { get; private set; }

    /// <summary>The download directory.</summary>
    public string Directory { get; }

    /// <summary>The session's tunables.</summary>
    public TorrentSessionOptions Options { get; }

    /// <summary>Completes once every piece is verified on disk (at once when everything was there already).</summary>
    public Task Completion => _completed.Task;

    /// <summary>Completes once the metadata is known (at once unless this is a magnet).</summary>
    public Task MetadataReady => _metadataReady.Task;

    /// <summary>True once every piece is verified.</summary>
    public bool IsComplete => _completed.Task.IsCompletedSuccessfully;

    internal bool AcceptsPeers => Volatile.Read(ref _started) == 1 && Volatile.Read(ref _disposed) == 0;

    /// <summary>A snapshot of progress and peers.</summary>
    public TorrentProgress Progress
    {
        get
        {
            lock (_gate)
            {
                var have = _picker?.Have;
                return new TorrentProgress(
                    have?.Count ?? 0,
                    Info?.PieceCount ?? 0,
                    Info?.TotalLength ?? 0,
                    Interlocked.Read(ref _bytesDown),
                    Interlocked.Read(ref _bytesUp),
                    _peers.Count,
                    _banned.Count);
            }
        }
    }

    /// <summary>Addresses banned for sending corrupt data or breaking the protocol.</summary>
    public IReadOnlyCollection<IPAddress> BannedAddresses
    {
        get
        {
            lock (_gate)
            {
                return [.. _banned];
            }
        }
    }

    /// <summary>Remote endpoints of the connected peers.</summary>
    public IReadOnlyList<IPEndPoint> ConnectedPeers
    {
        get
        {
            lock (_gate)
            {
                return [.. _peers.Select(p => p.ListenEndPoint ?? p.RemoteEndPoint)];
            }
        }
    }

    /// <summary>Checks the files on disk (resume), then starts accepting and dialling peers and announcing.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            return;
        }

        _downloadActivity = TorrentTelemetry.ActivitySource.StartActivity("torrent.download", ActivityKind.Internal);
        _downloadActivity?.SetTag("testbed.peer", Options.PeerName ?? Encoding.ASCII.GetString(_client.PeerId, 0, 8));
        _downloadActivity?.SetTag("torrent.infohash", InfoHash.ToHex());
        if (Info is not null)
        {
            await SetUpStorageAsync(Info, cancellationToken).ConfigureAwait(false);
        }

        _client.Start();
        _pipelineLoop = Task.Run(() => RunPipelineAsync(_stopping.Token), CancellationToken.None);
        _maintenance = Task.Run(() => MaintainAsync(_stopping.Token), CancellationToken.None);
        if (Options.UseTrackers && _trackerTiers.Count > 0)
        {
            _trackerLoop = Task.Run(() => AnnounceLoopAsync(_stopping.Token), CancellationToken.None);
        }
    }

    /// <summary>Waits until the download is complete and verified.</summary>
    public Task WaitForCompletionAsync(CancellationToken cancellationToken = default) => _completed.Task.WaitAsync(cancellationToken);

    /// <summary>Adds a peer to dial (from the command line, an announce message, a tracker); dials at once if there is room.</summary>
    public void AddPeer(IPEndPoint endPoint)
    {
        lock (_gate)
        {
            AddCandidateLocked(endPoint, force: true);
            ConnectCandidatesLocked();
        }
    }

    private async Task SetUpStorageAsync(TorrentInfo info, CancellationToken cancellationToken)
    {
        var layout = TorrentLayout.FromInfo(info, _pieceLayers);
        var store = new PieceStorage(layout, Directory, Options.ReadOnly);
        if (Options.ReadOnly && store.FindMissing() is { Count: > 0 } missing)
        {
            store.Dispose();
            throw new TorrentDataException($"cannot seed from {Directory}: {string.Join("; ", missing.Take(5))}{(missing.Count > 5 ? $"; and {missing.Count - 5} more" : "")}", missing);
        }

        // Resume: hash what is on disk, fetch only the rest. Off the caller's thread: this reads every file.
        var have = await Task.Run(() => store.Check(cancellationToken), cancellationToken).ConfigureAwait(false);
        if (!have.IsComplete)
        {
            if (Options.ReadOnly)
            {
                store.Dispose();
                var failing = layout.PieceCount - have.Count;
                throw new TorrentDataException($"cannot seed from {Directory}: {failing} of {layout.PieceCount} pieces do not match the torrent (the files hold other data)", [$"{failing} pieces fail their hash"]);
            }

            store.EnsureFiles();
        }

        lock (_gate)
        {
            Info = info;
            Layout = layout;
            _storage = store;
            _picker = new PiecePicker(layout, have);
            _limits = new WireLimits(info.PieceCount);
            _downloadActivity?.SetTag("torrent.bytes", info.TotalLength);
            _downloadActivity?.SetTag("torrent.pieces", info.PieceCount);
            _metadataReady.TrySetResult();
            foreach (var conn in _peers)
            {
                ApplyPendingAvailabilityLocked(conn);
                AnnounceAvailabilityAfterMetadataLocked(conn);
            }

            CheckCompleteLocked();
        }
    }

    /// <summary>The piece/file layout, once the metadata is known.</summary>
    public TorrentLayout? Layout { get; private set; }

    private void CheckCompleteLocked()
    {
        if (_picker is null || !_picker.Have.IsComplete || _completed.Task.IsCompleted)
        {
            return;
        }

        if (_downloadActivity is not null)
        {
            _downloadActivity.SetTag("torrent.peers", _peers.Count);
            _downloadActivity.SetStatus(ActivityStatusCode.Ok);
            _downloadActivity.Dispose();
            _downloadActivity = null;
        }

        foreach (var conn in _peers)
        {
            UpdateInterestLocked(conn);
        }

        _completed.TrySetResult();
        OnCompletedForTrackers();
    }

    /// <summary>Takes a connection whose handshake is done (incoming, or dialled by us).</summary>
    internal void Attach(PeerConnection connection, IPEndPoint? dialed)
    {
        lock (_gate)
        {
            var address = Normalize(connection.RemoteEndPoint.Address);
            var duplicate = _peers.Any(p => p.Remote.PeerId.AsSpan().SequenceEqual(connection.Remote.PeerId));
            var self = connection.Remote.PeerId.AsSpan().SequenceEqual(_client.PeerId);
            if (_disposed == 1 || _banned.Contains(address) || duplicate || self || _peers.Count >= Options.MaxPeers)
            {
                _ = connection.DisposeAsync().AsTask();
                return;
            }

            var conn = new SessionPeer(connection, dialed, Options.Pipeline.InitialDepth);
            connection.Uploaded = n =>
            {
                Interlocked.Add(ref _bytesUp, n);
                TransferMetrics.BytesUp.Add(n);
            };
            _peers.Add(conn);
            if (dialed is null)
            {
                CountSourceLocked(conn.RemoteEndPoint);
            }

            OnConnectedLocked(conn);
            _peerTasks.RemoveAll(t => t.IsCompleted);
            _peerTasks.Add(Task.Run(() => RunPeerAsync(conn), CancellationToken.None));
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private async Task RunPeerAsync(SessionPeer conn)
    {
        using var served = new ServedPiece();
        var writer = Task.Run(async () =>
        {
            try
            {
                await conn.Connection.RunWriterAsync((block, destination) => ReadBlock(conn, served, block, destination), _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                // The connection ended; the reader loop notices the closed socket.
            }
            finally
            {
                conn.Close();
            }
        });
        try
        {
            await ReadLoopAsync(conn).ConfigureAwait(false);
        }
        catch (PeerProtocolException e)
        {
            Trace.TraceInformation($"peer {conn.RemoteEndPoint} dropped: {e.Message}");
            lock (_gate)
            {
                LastDisconnectReason = e.Message;
                conn.DropReason ??= $"broke the protocol: {e.Message}";
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // The socket closed or the session is stopping.
        }
        finally
        {
            conn.Close();
            await writer.ConfigureAwait(false);
            await DrainPipelineAsync().ConfigureAwait(false);
            lock (_gate)
            {
                DetachLocked(conn);
                CheckSourcesLeftLocked(conn.ListenEndPoint ?? conn.RemoteEndPoint, conn.DropReason ?? "closed the connection");
            }

            await conn.Connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The last error writing to disk, if any (the piece is fetched again).</summary>
    public string? LastStorageError { get; private set; }

    /// <summary>Why the last peer was dropped for breaking the protocol (for diagnostics and tests).</summary>
    public string? LastDisconnectReason { get; private set; }

    private async Task ReadLoopAsync(SessionPeer conn)
    {
        var reader = conn.Connection.Reader;
        List<PieceDownload>? finished = null;
        while (true)
        {
            var result = await reader.ReadAsync(conn.Connection.Closed).ConfigureAwait(false);
            var buffer = result.Buffer;
            conn.Connection.LastReceived = Environment.TickCount64;
            try
            {
                lock (_gate)
                {
                    while (WireCodec.TryRead(ref buffer, _limits, out var message))
                    {
                        HandleLocked(conn, message, ref finished);
                    }
                }
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);

                // Pieces finished before a protocol violation are checked too (the picker holds them as verifying). Handing
                // them over waits only while the pipeline is full: the socket is not read then, and TCP slows the sender.
                if (finished is { Count: > 0 })
                {
                    await _pipeline.AddAsync(finished, _stopping.Token).ConfigureAwait(false);
                }
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    private void DetachLocked(SessionPeer conn)
    {
        if (!_peers.Remove(conn))
        {
            return;
        }

        if (conn.PeerHas is not null && _picker is not null)
        {
            _picker.RemoveAvailability(conn.PeerHas);
        }

        RequestScheduler.ReleaseOutstanding(_picker, conn);
        _choker.Forget(conn);

        // Someone else may now serve what this peer was serving.
        foreach (var other in _peers)
        {
            _scheduler.Fill(_picker, other);
        }
    }

    /// <summary>Stops the session: closes every peer, stops announcing (a `stopped` event), closes the files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        Task[] tasks;
        lock (_gate)
        {
            foreach (var conn in _peers)
            {
                conn.Close();
            }

            tasks = [.. _peerTasks];
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        if (_maintenance is not null)
        {
            await _maintenance.ConfigureAwait(false);
        }

        if (_trackerLoop is not null)
        {
            await _trackerLoop.ConfigureAwait(false);
        }

        if (_pipelineLoop is not null)
        {
            await _pipelineLoop.ConfigureAwait(false);
        }

        _client.Unregister(this);
        lock (_gate)
        {
            _storage?.Dispose();
            if (_downloadActivity is not null)
            {
                _downloadActivity.SetTag("torrent.peers", _peers.Count);
                _downloadActivity.SetStatus(ActivityStatusCode.Error, "stopped before the download completed");
                _downloadActivity.Dispose();
                _downloadActivity = null;
            }
        }

        _completed.TrySetCanceled();
        _metadataReady.TrySetCanceled();
        _stopping.Dispose();
    }
}
