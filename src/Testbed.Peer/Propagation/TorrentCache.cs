using System.Net;
using Testbed.Peer.Faults;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.Sessions;

namespace Testbed.Peer.Propagation;

/// <summary>
/// The block and chain-segment torrents this peer seeds or downloads, on one <see cref="TorrentClient"/>. Content is
/// deterministic (name from the content's identity, fixed piece length, no creation date), so every peer that holds the
/// same blocks makes the same info hash and the swarm of a block or a segment is everyone who has it. The most recent
/// torrents of each kind are kept seeding; older ones are stopped and their scratch files removed.
/// </summary>
public sealed class TorrentCache : IAsyncDisposable
{
    /// <summary>Piece length of every block and segment torrent.</summary>
    public const int PieceLength = 16 * 1024;

    private readonly TorrentClient _client;
    private readonly string _directory;
    private readonly string _peerName;
    private readonly FaultState _faults;
    private readonly int _capacity;
    private readonly Lock _gate = new();
    private readonly LinkedList<InfoHash> _order = new();
    private readonly Dictionary<InfoHash, TorrentSession> _sessions = [];

    /// <summary>Creates a cache of at most <paramref name="capacity"/> sessions under <paramref name="directory"/>.</summary>
    public TorrentCache(TorrentClient client, string directory, string peerName, FaultState faults, int capacity)
    {
        _client = client;
        _directory = directory;
        _peerName = peerName;
        _faults = faults;
        _capacity = capacity;
        Directory.CreateDirectory(directory);
    }

    /// <summary>The info dictionary of content named <paramref name="name"/>.</summary>
    public static TorrentInfo Describe(string name, ReadOnlyMemory<byte> content) =>
        TorrentCreator.CreateFromBytes(name, content, new TorrentCreateOptions { PieceLength = PieceLength, CreatedBy = null }).Info;

    private TorrentSessionOptions SessionOptions => new()
    {
        PeerName = _peerName,
        UseTrackers = false,
        UploadSlots = 32,
        MaxPeers = 64,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        RequestTimeout = TimeSpan.FromSeconds(5),
        AllowedFastCount = 8,
    };

    /// <summary>Raised with a torrent's info hash when the cache starts seeding it (content we held, or a finished download).</summary>
    public event Action<InfoHash>? Seeding;

    /// <summary>Seeds content we hold (a block we mined or accepted, a segment of our chain); returns the session.</summary>
    public async Task<TorrentSession> SeedAsync(TorrentInfo info, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        TorrentSession? session;
        lock (_gate)
        {
            session = _sessions.GetValueOrDefault(info.InfoHash);
        }

        if (session is not null)
        {
            return session;
        }

        var path = Path.Combine(_directory, info.Name);
        await File.WriteAllBytesAsync(path, content, cancellationToken).ConfigureAwait(false);
        session = Register(info);
        await session.StartAsync(cancellationToken).ConfigureAwait(false);
        _faults.CorruptServedPieces(path, info);
        Seeding?.Invoke(info.InfoHash);
        return session;
    }

    /// <summary>
    /// Downloads content from the given sources over BitTorrent and returns its bytes; the session then keeps seeding.
    /// Throws <see cref="TorrentSourcesLostException"/> as soon as every source's connection closed (or could not be made)
    /// with nobody left to dial, so the caller can try another peer at once, and <see cref="TimeoutException"/> when
    /// sources stayed connected but did not deliver in time; either way the session is dropped.
    /// </summary>
    public async Task<byte[]> DownloadAsync(TorrentInfo info, IEnumerable<IPEndPoint> sources, TimeSpan timeout, CancellationToken cancellationToken)
    {
        TorrentSession session;
        bool created;
        lock (_gate)
        {
            created = !_sessions.TryGetValue(info.InfoHash, out var existing);
            session = existing ?? RegisterLocked(info);
        }

        if (created)
        {
            await session.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var source in sources)
        {
            session.AddPeer(source);
        }

        try
        {
            await session.WaitForDownloadAsync(cancellationToken).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TorrentSourcesLostException)
        {
            await DropAsync(info.InfoHash).ConfigureAwait(false);
            throw;
        }
        catch (Exception e) when (e is TimeoutException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var reason = session.LastDisconnectReason;
            await DropAsync(info.InfoHash).ConfigureAwait(false);
            throw new TimeoutException($"torrent {info.InfoHash} ({info.Name}) did not complete in {timeout.TotalSeconds:0.#} s" + (reason is null ? "" : $"; last peer problem: {reason}"));
        }

        var path = Path.Combine(_directory, info.Name);
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        _faults.CorruptServedPieces(path, info);
        Seeding?.Invoke(info.InfoHash);
        return bytes;
    }

    /// <summary>Hash failures seen by a download session (addresses banned by it).</summary>
    public bool HadCorruptPieces(InfoHash infoHash)
    {
        lock (_gate)
        {
            return _sessions.TryGetValue(infoHash, out var s) && s.BannedAddresses.Count > 0;
        }
    }

    /// <summary>Stops a session and removes its file.</summary>
    public async Task DropAsync(InfoHash infoHash)
    {
        TorrentSession? session;
        lock (_gate)
        {
            if (_sessions.Remove(infoHash, out session))
            {
                _order.Remove(infoHash);
            }
        }

        if (session is not null)
        {
            await StopAsync(session).ConfigureAwait(false);
        }
    }

    /// <summary>Rewrites the true content of every seeded file (undoes the corrupt-pieces fault).</summary>
    public void RestoreAll(Func<TorrentInfo, byte[]?> content)
    {
        List<TorrentSession> all;
        lock (_gate)
        {
            all = [.. _sessions.Values];
        }

        foreach (var session in all)
        {
            if (session.Info is { } info && session.IsComplete && content(info) is { } bytes)
            {
                using var stream = new FileStream(Path.Combine(_directory, info.Name), FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                stream.Write(bytes);
            }
        }
    }

    /// <summary>Infos of the sessions currently held.</summary>
    public IReadOnlyList<TorrentInfo> Infos
    {
        get
        {
            lock (_gate)
            {
                return [.. _sessions.Values.Select(s => s.Info).OfType<TorrentInfo>()];
            }
        }
    }

    private TorrentSession Register(TorrentInfo info)
    {
        lock (_gate)
        {
            return _sessions.TryGetValue(info.InfoHash, out var existing) ? existing : RegisterLocked(info);
        }
    }

    private TorrentSession RegisterLocked(TorrentInfo info)
    {
        var session = _client.Add(info, _directory, SessionOptions);
        _sessions[info.InfoHash] = session;
        _order.AddLast(info.InfoHash);
        while (_order.Count > _capacity)
        {
            var oldest = _order.First!.Value;
            _order.RemoveFirst();
            if (_sessions.Remove(oldest, out var old))
            {
                _ = StopAsync(old);
            }
        }

        return session;
    }

    private async Task StopAsync(TorrentSession session)
    {
        try
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (session.Info is { } info)
            {
                try
                {
                    File.Delete(Path.Combine(_directory, info.Name));
                }
                catch (IOException)
                {
                }
            }
        }
    }

    /// <summary>Stops every session.</summary>
    public async ValueTask DisposeAsync()
    {
        List<TorrentSession> all;
        lock (_gate)
        {
            all = [.. _sessions.Values];
            _sessions.Clear();
            _order.Clear();
        }

        foreach (var session in all)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }
}
