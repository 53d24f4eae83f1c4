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

    private readonly DhtNode node;
    private readonly NetworkSwarm swarm;
    private readonly IReadOnlyList<IPEndPoint> bootstrap;
    private readonly int torrentPort;
    private readonly TimeSpan interval;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<IPEndPoint, byte> learned = new();
    private readonly Channel<InfoHash> blocks = Channel.CreateBounded<InfoHash>(new BoundedChannelOptions(MaxPendingBlocks) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly CancellationTokenSource stopping = new();
    private readonly Task[] loops;
    private int lookups;
    private int peersFound;

    private DhtDiscovery(DhtNode node, NetworkSwarm swarm, IReadOnlyList<IPEndPoint> bootstrap, int torrentPort, TimeSpan interval, ILogger logger)
    {
        this.node = node;
        this.swarm = swarm;
        this.bootstrap = bootstrap;
        this.torrentPort = torrentPort;
        this.interval = interval;
        this.logger = logger;
        loops = [Task.Run(() => DiscoverAsync(stopping.Token)), Task.Run(() => AnnounceBlocksAsync(stopping.Token))];
    }

    /// <summary>Where the node listens (the peer's advertised address, so the members it announces are dialled as advertised).</summary>
    public IPEndPoint LocalEndPoint => node.LocalEndPoint;

    /// <summary>Nodes in the routing table.</summary>
    public int RoutingTableCount => node.RoutingTableCount;

    /// <summary>Network lookups done so far.</summary>
    public int Lookups => Volatile.Read(ref lookups);

    /// <summary>Network members the last lookup found.</summary>
    public int PeersFound => Volatile.Read(ref peersFound);

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
        if (!endPoint.Equals(node.LocalEndPoint))
        {
            learned.TryAdd(endPoint, 0);
        }
    }

    /// <summary>Announces a block torrent we seed (its info hash, our torrent port), in the background.</summary>
    public void AnnounceBlock(InfoHash infoHash) => blocks.Writer.TryWrite(infoHash);

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
                    logger.LogWarning("DHT round failed: {Error}", e.Message);
                }

                // Until the node has found members it asks again soon; then at the swarm's announce interval.
                await Task.Delay(PeersFound == 0 ? TimeSpan.FromSeconds(1) : interval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RoundAsync(CancellationToken cancellationToken)
    {
        var starts = bootstrap.Concat(learned.Keys).Distinct().ToList();
        if (node.RoutingTableCount == 0 || !learned.IsEmpty)
        {
            // Only what this round takes: a node learned meanwhile is joined at the next round.
            foreach (var endPoint in starts)
            {
                learned.TryRemove(endPoint, out _);
            }

            await node.BootstrapAsync(starts, cancellationToken).ConfigureAwait(false);
        }

        if (node.RoutingTableCount == 0)
        {
            return;
        }

        var members = await node.GetPeersAsync(swarm.InfoHash, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref lookups);
        Volatile.Write(ref peersFound, members.Count);
        swarm.DialFound(MemberSource.Dht, members);
        await node.AnnounceAsync(swarm.InfoHash, swarm.LocalEndPoint!.Port, cancellationToken).ConfigureAwait(false);
    }

    private async Task AnnounceBlocksAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var infoHash in blocks.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (node.RoutingTableCount == 0)
                {
                    continue;
                }

                try
                {
                    await node.AnnounceAsync(infoHash, torrentPort, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogDebug("DHT announce of block torrent {InfoHash} failed: {Error}", infoHash, e.Message);
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
        await stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(false);
        await node.DisposeAsync().ConfigureAwait(false);
        stopping.Dispose();
    }
}
