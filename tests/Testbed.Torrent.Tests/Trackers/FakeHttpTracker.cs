using System.Net.Sockets;
using System.Text;

namespace Testbed.Torrent.Tests.Trackers;

/// <summary>A tiny HTTP/1.1 server on loopback whose answers the test scripts, recording each raw request target.</summary>
internal sealed class FakeHttpTracker : IAsyncDisposable
{
    private int _connections;
    private int _requestsOnAnsweredConnections;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<string, (int Status, byte[] Body)> _respond;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<string> _targets = [];

    public FakeHttpTracker(Func<string, (int Status, byte[] Body)> respond)
    {
        _respond = respond;
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    public FakeHttpTracker(byte[] body)
        : this(_ => (200, body))
    {
    }

    public Uri AnnounceUri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/announce");

    /// <summary>
    /// When set, answers as opentracker does: HTTP/1.1 without a "Connection: close" header, the connection closed only this
    /// long after the answer and without reading anything more, so a request sent on it meanwhile is reset by the kernel.
    /// </summary>
    public TimeSpan? CloseLateWithoutSayingSo { get; init; }

    /// <summary>How many connections the server has accepted.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>
    /// With <see cref="CloseLateWithoutSayingSo"/>: how many connections carried data after their answer (a request sent
    /// on a connection the tracker was closing, which the close then resets).
    /// </summary>
    public int RequestsOnAnsweredConnections => Volatile.Read(ref _requestsOnAnsweredConnections);

    public IReadOnlyList<string> Targets
    {
        get
        {
            lock (_targets)
            {
                return [.. _targets];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception error) when (error is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var header = new StringBuilder();
            var buffer = new byte[1];
            while (!header.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && header.Length < 65536)
            {
                if (await stream.ReadAsync(buffer, _stop.Token) == 0)
                {
                    return;
                }

                header.Append((char)buffer[0]);
            }

            var target = header.ToString().Split(' ')[1];
            lock (_targets)
            {
                _targets.Add(target);
            }

            var (status, body) = _respond(target);
            var closeLate = CloseLateWithoutSayingSo;
            var connection = closeLate is null ? "Connection: close\r\n" : string.Empty;
            var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} X\r\nContent-Length: {body.Length}\r\nContent-Type: text/plain\r\n{connection}\r\n");
            await stream.WriteAsync(head, _stop.Token);
            await stream.WriteAsync(body, _stop.Token);
            if (closeLate is { } delay)
            {
                await Task.Delay(delay, _stop.Token);
                if (client.Available > 0)
                {
                    Interlocked.Increment(ref _requestsOnAnsweredConnections);
                }
            }
        }
    }
}
