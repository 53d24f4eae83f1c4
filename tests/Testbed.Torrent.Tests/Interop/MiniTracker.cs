using System.Net.Sockets;
using System.Text;
using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Tests.Interop;

/// <summary>
/// A tiny HTTP tracker for interop tests: every announce gets the same fixed peer list (compact form), so
/// clients that cannot be handed a peer directly (aria2c, transmission-cli) find our seeder.
/// </summary>
internal sealed class MiniTracker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly IReadOnlyList<IPEndPoint> _peers;
    private int _announces;

    public MiniTracker(IReadOnlyList<IPEndPoint> peers)
    {
        _peers = peers;
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    public string AnnounceUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/announce";

    public int Announces => Volatile.Read(ref _announces);

    /// <summary>The request line of every announce received (GET /announce?info_hash=...).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> RequestLines { get; } = new();

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var buffer = new byte[8192];
                var read = 0;
                while (read < buffer.Length)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(read), _stop.Token);
                    if (n == 0)
                    {
                        break;
                    }

                    read += n;
                    if (Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        break;
                    }
                }

                RequestLines.Enqueue(Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0]);
                Interlocked.Increment(ref _announces);
                var compact = new byte[_peers.Count * 6];
                for (var i = 0; i < _peers.Count; i++)
                {
                    _peers[i].Address.MapToIPv4().TryWriteBytes(compact.AsSpan(i * 6), out _);
                    compact[(i * 6) + 4] = (byte)(_peers[i].Port >> 8);
                    compact[(i * 6) + 5] = (byte)_peers[i].Port;
                }

                var body = new BencodeDictionary { { "interval", 30L }, { "min interval", 5L }, { "peers", compact } }.Encode();
                var head = Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(head, _stop.Token);
                await stream.WriteAsync(body, _stop.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
