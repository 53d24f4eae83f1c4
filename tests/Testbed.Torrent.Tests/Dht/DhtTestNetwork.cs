using System.Net.Sockets;
using Testbed.Torrent.Dht;
using Testbed.Torrent.Dht.Krpc;

namespace Testbed.Torrent.Tests.Dht;

/// <summary>Our DHT nodes on loopback, each on its own 127.x.y.z address and a free port; disposed together.</summary>
internal sealed class DhtTestNetwork : IAsyncDisposable
{
    private readonly List<DhtNode> _nodes = [];

    public IReadOnlyList<DhtNode> Nodes => _nodes;

    public static IPEndPoint Loopback(int subnet, int host) => new(IPAddress.Parse($"127.0.{subnet}.{host}"), 0);

    public async Task<DhtNode> StartAsync(DhtNodeOptions options)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var node = await DhtNode.StartAsync(options, timeout.Token);
        _nodes.Add(node);
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}

/// <summary>A bare UDP socket that speaks KRPC by hand: for what a well-behaved node never sends (floods, garbage, forged sizes).</summary>
internal sealed class RawKrpcClient : IDisposable
{
    private readonly UdpClient _udp;
    private readonly Queue<KrpcQuery> _queries = new();

    public RawKrpcClient(IPAddress address) => _udp = new UdpClient(new IPEndPoint(address, 0));

    public IPEndPoint LocalEndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

    public Task SendAsync(byte[] datagram, IPEndPoint to) => _udp.SendAsync(datagram, to).AsTask();

    public Task SendAsync(KrpcMessage message, IPEndPoint to) => SendAsync(KrpcCodec.Encode(message), to);

    /// <summary>The next datagram from <paramref name="from"/> within <paramref name="timeout"/>, or null.</summary>
    public async Task<byte[]?> ReceiveAsync(TimeSpan timeout, IPEndPoint? from = null)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var result = await _udp.ReceiveAsync(cancel.Token);
                if (from is null || result.RemoteEndPoint.Equals(from))
                {
                    return result.Buffer;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Every datagram that arrives within <paramref name="window"/>.</summary>
    public async Task<List<byte[]>> DrainAsync(TimeSpan window)
    {
        var all = new List<byte[]>();
        var end = DateTime.UtcNow + window;
        while (DateTime.UtcNow < end)
        {
            if (await ReceiveAsync(end - DateTime.UtcNow) is { } datagram)
            {
                all.Add(datagram);
            }
        }

        return all;
    }

    /// <summary>Sends a query and returns the decoded reply to it (skipping the node's own queries), or null after 3 s.</summary>
    public async Task<(KrpcMessage? Reply, int Size)> AskAsync(KrpcQuery query, IPEndPoint to)
    {
        await SendAsync(query, to);
        var end = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < end && await ReceiveAsync(end - DateTime.UtcNow, to) is { } datagram)
        {
            Assert.True(KrpcCodec.TryDecode(datagram, out var message, out var refusal), refusal?.ToString());
            if (message is KrpcQuery fromNode)
            {
                _queries.Enqueue(fromNode); // The node's own query (a ping to verify us) can overtake its answer: kept for NextQueryAsync.
            }
            else if (message.TransactionId.SequenceEqual(query.TransactionId))
            {
                return (message, datagram.Length);
            }
        }

        return (null, 0);
    }

    /// <summary>The next query the node sent us (kept aside by <see cref="AskAsync"/>, or arriving within 5 s), or null.</summary>
    public async Task<KrpcQuery?> NextQueryAsync(IPEndPoint from)
    {
        if (_queries.TryDequeue(out var kept))
        {
            return kept;
        }

        var end = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < end && await ReceiveAsync(end - DateTime.UtcNow, from) is { } datagram)
        {
            if (KrpcCodec.TryDecode(datagram, out var message, out _) && message is KrpcQuery query)
            {
                return query;
            }
        }

        return null;
    }

    public void Dispose() => _udp.Dispose();
}
