using System.Buffers.Binary;
using System.Net.Sockets;

namespace Testbed.Torrent.Tests.Trackers;

/// <summary>A scripted BEP 15 tracker on loopback: the test decides the reply (or silence) to each datagram.</summary>
internal sealed class FakeUdpTracker : IAsyncDisposable
{
    private readonly UdpClient _socket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly Func<byte[], int, IEnumerable<byte[]>> _respond;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<byte[]> _requests = [];

    /// <param name="respond">Given a request and its index, the datagrams to send back (none for silence).</param>
    public FakeUdpTracker(Func<byte[], int, IEnumerable<byte[]>> respond)
    {
        _respond = respond;
        _loop = Task.Run(ReceiveLoopAsync);
    }

    public Uri AnnounceUri => new($"udp://127.0.0.1:{((IPEndPoint)_socket.Client.LocalEndPoint!).Port}");

    public IReadOnlyList<byte[]> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public int CountAction(int action) => Requests.Count(r => r.Length >= 12 && BinaryPrimitives.ReadInt32BigEndian(r.AsSpan(8)) == action);

    public static byte[] ConnectReply(byte[] request, long connectionId)
    {
        var reply = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(reply, 0);
        request.AsSpan(12, 4).CopyTo(reply.AsSpan(4));
        BinaryPrimitives.WriteInt64BigEndian(reply.AsSpan(8), connectionId);
        return reply;
    }

    public static byte[] AnnounceReply(byte[] request, int interval, int leechers, int seeders, params byte[][] compactPeers)
    {
        var reply = new byte[20 + compactPeers.Sum(p => p.Length)];
        BinaryPrimitives.WriteInt32BigEndian(reply, 1);
        request.AsSpan(12, 4).CopyTo(reply.AsSpan(4));
        BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(8), interval);
        BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(12), leechers);
        BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(16), seeders);
        var offset = 20;
        foreach (var peer in compactPeers)
        {
            peer.CopyTo(reply, offset);
            offset += peer.Length;
        }

        return reply;
    }

    public static byte[] ErrorReply(byte[] request, string message)
    {
        var text = System.Text.Encoding.UTF8.GetBytes(message);
        var reply = new byte[8 + text.Length];
        BinaryPrimitives.WriteInt32BigEndian(reply, 3);
        request.AsSpan(12, 4).CopyTo(reply.AsSpan(4));
        text.CopyTo(reply, 8);
        return reply;
    }

    public static int Action(byte[] request) => BinaryPrimitives.ReadInt32BigEndian(request.AsSpan(8));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _loop;
        }
        catch (Exception error) when (error is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var index = 0;
        while (!_stop.IsCancellationRequested)
        {
            var received = await _socket.ReceiveAsync(_stop.Token);
            lock (_requests)
            {
                _requests.Add(received.Buffer);
            }

            foreach (var reply in _respond(received.Buffer, index++))
            {
                await _socket.SendAsync(reply, received.RemoteEndPoint, _stop.Token);
            }
        }
    }
}
