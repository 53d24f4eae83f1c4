using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Testbed.Torrent.PeerWire;

namespace Testbed.Torrent.Tests.Sessions;

/// <summary>A hand-driven peer for protocol tests: it speaks the wire format directly, so it can also break it.</summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;

    private RawPeer(Socket socket, Handshake remote)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream);
        Remote = remote;
    }

    public Handshake Remote { get; }

    public static byte[] PeerId { get; } = Handshake.NewPeerId();

    /// <summary>Dials <paramref name="endPoint"/> and exchanges handshakes (extension and fast bits set).</summary>
    public static async Task<RawPeer> ConnectAsync(IPEndPoint endPoint, InfoHash infoHash, bool v2 = false)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint);
        await socket.SendAsync(Handshake.Create(infoHash.ToArray(), Handshake.NewPeerId(), v2).ToBytes());
        var remote = await ReadHandshakeAsync(socket);
        return new RawPeer(socket, remote);
    }

    /// <summary>Accepts one connection on <paramref name="listener"/> and answers its handshake.</summary>
    public static async Task<RawPeer> AcceptAsync(Socket listener, CancellationToken cancellationToken, bool v2 = false)
    {
        var socket = await listener.AcceptAsync(cancellationToken);
        var remote = await ReadHandshakeAsync(socket);
        await socket.SendAsync(Handshake.Create(remote.InfoHash, Handshake.NewPeerId(), v2).ToBytes());
        return new RawPeer(socket, remote);
    }

    public static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        return listener;
    }

    private static async Task<Handshake> ReadHandshakeAsync(Socket socket)
    {
        var buffer = new byte[Handshake.Length];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read));
            if (n == 0)
            {
                throw new IOException("closed during handshake");
            }

            read += n;
        }

        return Handshake.Parse(buffer);
    }

    public async Task SendAsync(PeerMessage message)
    {
        var writer = new ArrayBufferWriter<byte>();
        WireCodec.Write(writer, message);
        await SendRawAsync(writer.WrittenMemory);
    }

    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes) => await _socket.SendAsync(bytes);

    /// <summary>Reads messages until one matches; returns null if the connection closes first.</summary>
    public async Task<PeerMessage?> ReceiveAsync(Func<PeerMessage, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var limits = new WireLimits(null);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _reader.ReadAsync(cts.Token);
            }
            catch (IOException)
            {
                return null;
            }

            var buffer = result.Buffer;
            PeerMessage? found = null;
            while (found is null && WireCodec.TryRead(ref buffer, limits, out var message))
            {
                if (match(message))
                {
                    // Piece data must be copied before the reader advances.
                    found = message is PieceMessage p ? p with { Data = new ReadOnlySequence<byte>(p.Data.ToArray()) } : message;
                }
            }

            if (found is not null)
            {
                // Only what was read is examined: messages already buffered behind it are returned by the next call at once.
                _reader.AdvanceTo(buffer.Start);
                return found;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);

            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>True once the other side has closed the connection (reads drain until the end).</summary>
    public async Task<bool> WaitClosedAsync(TimeSpan timeout)
    {
        try
        {
            return await ReceiveAsync(_ => false, timeout) is null;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.CompleteAsync();
        await _stream.DisposeAsync();
    }
}
