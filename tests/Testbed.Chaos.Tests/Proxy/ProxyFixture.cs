namespace Testbed.Chaos.Tests.Proxy;

/// <summary>Two nodes, "a" and "b", on a fresh loopback plan; b runs an echo or sink server behind the proxy.</summary>
internal sealed class ProxyFixture : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly List<Socket> _sockets = [];

    public ProxyFixture()
    {
        Plan = LoopbackPlan.CreateRandom();
        A = Plan.Node("a", 1);
        B = Plan.Node("b", 2);
        Proxy = new FaultProxy(Links);
        Proxy.AddNode(A);
        Proxy.AddNode(B);
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(B.PrivateAddress, 0));
        _listener.Listen(16);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        BPublic = Proxy.Expose("b", Port);
    }

    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    public LoopbackPlan Plan { get; }

    public ProxyNode A { get; }

    public ProxyNode B { get; }

    public LinkTable Links { get; } = new();

    public FaultProxy Proxy { get; }

    public int Port { get; }

    public IPEndPoint BPublic { get; }

    /// <summary>Dials b's public address from a's private address; returns (a's socket, b's accepted socket).</summary>
    public async Task<(Socket Client, Socket Server)> ConnectAsync(IPAddress? from = null)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Track(client);
        client.Bind(new IPEndPoint(from ?? A.PrivateAddress, 0));
        using var timeout = new CancellationTokenSource(Generous);
        await client.ConnectAsync(BPublic, timeout.Token);
        var server = await _listener.AcceptAsync(timeout.Token);
        server.NoDelay = true;
        Track(server);
        return (client, server);
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, or fewer if the stream ends first.</summary>
    public static async Task<byte[]> ReadAsync(Socket socket, int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[count];
        var total = 0;
        while (total < count)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, cts.Token);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return buffer[..total];
    }

    /// <summary>True when nothing arrives on <paramref name="socket"/> within <paramref name="window"/>.</summary>
    public static async Task<bool> NothingArrivesAsync(Socket socket, TimeSpan window)
    {
        using var cts = new CancellationTokenSource(window);
        try
        {
            var read = await socket.ReceiveAsync(new byte[1], SocketFlags.None, cts.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    public static Task SendAsync(Socket socket, string text) => socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        _listener.Dispose();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }
    }

    private void Track(Socket socket)
    {
        lock (_sockets)
        {
            _sockets.Add(socket);
        }
    }
}
