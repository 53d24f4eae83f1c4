using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Testbed.Torrent.Dht;
using Testbed.Torrent.Metainfo;

namespace Testbed.Peer.Network;

/// <summary>
/// The peer's DHT node (BEP 5): started from the configured nodes and the DHT nodes its swarm peers tell it of, it announces
/// the network's info hash and each block's, and dials the network members it finds, so a peer that starts while the
/// tracker is down still finds the others.
/// </summary>
public sealed class DhtDiscovery : IAsyncDisposable
{
    /// <summary>Block announcements waiting for the DHT; older ones are dropped first (a block is announced once, best effort).</summary>
    private const int MaxPendingBlocks = 64;

    private readonly DhtNode _node;
    private readonly NetworkSwarm _swarm;
    private readonly IReadOnlyList<IPEndPoint> _bootstrap;
    private readonly int _torrentPort;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<IPEndPoint, byte> _learned = new();
    private readonly Channel<InfoHash> _blocks = Channel.CreateBounded<InfoHash>(new BoundedChannelOptions(MaxPendingBlocks) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task[] _loops;
    private int _lookups;
    private int _peersFound;

    private DhtDiscovery(DhtNode node, NetworkSwarm swarm, IReadOnlyList<IPEndPoint> bootstrap, int torrentPort, TimeSpan interval, ILogger logger)
    {
        _node = node;
        _swarm = swarm;
        _bootstrap = bootstrap;
        _torrentPort = torrentPort;
        _interval = interval;
        _logger = logger;
        _loops = [Task.Run(() => DiscoverAsync(_stopping.Token)), Task.Run(() => AnnounceBlocksAsync(_stopping.Token))];
    }

    /// <summary>Where the node listens (the peer's advertised address, so the members it announces are dialled as advertised).</summary>
    public IPEndPoint LocalEndPoint => _node.LocalEndPoint;

    /// <summary>Nodes in the routing table.</summary>
    public int RoutingTableCount => _node.RoutingTableCount;

    /// <summary>Network lookups done so far.</summary>
    public int Lookups => Volatile.Read(ref _lookups);

    /// <summary>Network members the last lookup found.</summary>
    public int PeersFound => Volatile.Read(ref _peersFound);

    /// <summary>
    /// Starts the node on <paramref name="listen"/> (state kept in <paramref name="statePath"/> across restarts) and the
    /// discovery loop: every <paramref name="interval"/> it announces the swarm's port and dials the members found.
    /// </summary>
    public static async Task<DhtDiscovery> StartAsync(
        IPEndPoint listen, IReadOnlyList<IPEndPoint> bootstrap, string statePath, string peerName, NetworkSwarm swarm, int torrentPort, TimeSpan interval, ILogger logger, CancellationToken cancellationToken)
    {
        var node = await DhtNode.StartAsync(
            new DhtNodeOptions(listen) { Bootstrap = bootstrap, StatePath = statePath, PeerName = peerName, Log = line => logger.LogInformation("DHT: {Line}", line) },
            cancellationToken).ConfigureAwait(false);
        return new DhtDiscovery(node, swarm, bootstrap, torrentPort, interval, logger);
    }

    /// <summary>A DHT node a swarm peer told us of; joined at the next round.</summary>
    public void Learn(IPEndPoint endPoint)
    {
        if (!endPoint.Equals(_node.LocalEndPoint))
        {
            _learned.TryAdd(endPoint, 0);
        }
    }

    /// <summary>Announces a block torrent we seed (its info hash, our torrent port), in the background.</summary>
    public void AnnounceBlock(InfoHash infoHash) => _blocks.Writer.TryWrite(infoHash);

    private async Task DiscoverAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await RoundAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogWarning("DHT round failed: {Error}", e.Message);
                }

                // Until the node has found members it asks again soon; then at the swarm's announce interval.
                await Task.Delay(PeersFound == 0 ? TimeSpan.FromSeconds(1) : _interval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RoundAsync(CancellationToken cancellationToken)
    {
        var starts = _bootstrap.Concat(_learned.Keys).Distinct().ToList();
        if (_node.RoutingTableCount == 0 || !_learned.IsEmpty)
        {
            // Only what this round takes: a node learned meanwhile is joined at the next round.
            foreach (var endPoint in starts)
            {
                _learned.TryRemove(endPoint, out _);
            }

            await _node.BootstrapAsync(starts, cancellationToken).ConfigureAwait(false);
        }

        if (_node.RoutingTableCount == 0)
        {
            return;
        }

        var members = await _node.GetPeersAsync(_swarm.InfoHash, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _lookups);
        Volatile.Write(ref _peersFound, members.Count);
        _swarm.DialFound(MemberSource.Dht, members);
        await _node.AnnounceAsync(_swarm.InfoHash, _swarm.LocalEndPoint!.Port, cancellationToken).ConfigureAwait(false);
    }

    private async Task AnnounceBlocksAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var infoHash in _blocks.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_node.RoutingTableCount == 0)
                {
                    continue;
                }

                try
                {
                    await _node.AnnounceAsync(infoHash, _torrentPort, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogDebug("DHT announce of block torrent {InfoHash} failed: {Error}", infoHash, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        await _node.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
