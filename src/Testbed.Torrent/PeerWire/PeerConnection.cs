using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Testbed.Torrent.Messages;

namespace Testbed.Torrent.PeerWire;

/// <summary>Reads one block of a verified piece into the destination; false when it cannot be served.</summary>
public delegate bool BlockSource(BlockRequest block, Span<byte> destination);

/// <summary>
/// One peer connection after the handshake, the transport only: the socket's pipes, an outgoing queue drained by a single
/// writer (so any thread may send), the queue of blocks the peer asked us for, and liveness times. What a torrent session
/// knows of the peer (choking, interest, availability, requests) lives in the session's per-peer state, not here.
/// </summary>
public sealed class PeerConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly Channel<object> _outbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<BlockRequest> _queuedUploads = [];
    private readonly Lock _uploadGate = new();
    private readonly CancellationTokenSource _closed = new();

    // Taken once: other threads check Closed after the connection is disposed, and a disposed source's Token throws.
    private readonly CancellationToken _closedToken;
    private int _disposed;

    /// <summary>Wraps a connected socket whose handshake has been exchanged.</summary>
    public PeerConnection(Socket socket, Handshake remote, bool weSupportFast = true)
    {
        _socket = socket;
        _closedToken = _closed.Token;
        socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 256 * 1024, minimumReadSize: 64 * 1024, leaveOpen: true));
        Writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
        Remote = remote;
        RemoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        FastEnabled = weSupportFast && remote.SupportsFast;
        var now = Environment.TickCount64;
        LastReceived = now;
        LastSent = now;
    }

    /// <summary>The remote handshake (peer id, reserved bits).</summary>
    public Handshake Remote { get; }

    /// <summary>The remote address.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>Both sides set the BEP 6 bit.</summary>
    public bool FastEnabled { get; }

    /// <summary>Both sides set the BEP 10 bit.</summary>
    public bool ExtensionsEnabled => Remote.SupportsExtensions;

    /// <summary>Reads incoming bytes.</summary>
    public PipeReader Reader { get; }

    /// <summary>Writes outgoing bytes; used only by the writer loop.</summary>
    private PipeWriter Writer { get; }

    /// <summary>Cancelled once the connection is closing; safe to read after it is disposed.</summary>
    public CancellationToken Closed => _closedToken;

    /// <summary>Payload bytes sent to the peer.</summary>
    public long BytesUp => Interlocked.Read(ref _bytesUp);

    private long _bytesUp;

    /// <summary>Tick count of the last byte received.</summary>
    public long LastReceived { get; set; }

    /// <summary>Tick count of the last message sent.</summary>
    public long LastSent { get; private set; }

    /// <summary>Blocks the peer asked for and we have not sent yet.</summary>
    public int QueuedUploadCount
    {
        get
        {
            lock (_uploadGate)
            {
                return _queuedUploads.Count;
            }
        }
    }

    /// <summary>Called for each payload byte count sent, for the session's counters.</summary>
    public Action<int>? Uploaded { get; set; }

    /// <summary>Queues a message; never blocks.</summary>
    public void Send(PeerMessage message) => _outbox.Writer.TryWrite(message);

    /// <summary>Queues an upload of a block the peer requested; false if it is already queued.</summary>
    public bool QueueUpload(BlockRequest block)
    {
        lock (_uploadGate)
        {
            if (!_queuedUploads.Add(block))
            {
                return false;
            }
        }

        _outbox.Writer.TryWrite(block);
        return true;
    }

    /// <summary>Drops a queued upload (cancel, or we choked the peer); true if it was still queued.</summary>
    public bool CancelUpload(BlockRequest block)
    {
        lock (_uploadGate)
        {
            return _queuedUploads.Remove(block);
        }
    }

    /// <summary>Drops every queued upload and returns them (we choked the peer).</summary>
    public List<BlockRequest> ClearUploads()
    {
        lock (_uploadGate)
        {
            var all = _queuedUploads.ToList();
            _queuedUploads.Clear();
            return all;
        }
    }

    /// <summary>Drains the outgoing queue into the socket until the connection closes; uploads read from <paramref name="source"/>.</summary>
    public async Task RunWriterAsync(BlockSource source, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        var token = linked.Token;
        var reader = _outbox.Reader;
        while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                if (item is PeerMessage message)
                {
                    WireCodec.Write(Writer, message);
                }
                else if (item is BlockRequest block && TakeUpload(block))
                {
                    var span = Writer.GetSpan(13 + block.Length);
                    if (!source(block, span.Slice(13, block.Length)))
                    {
                        continue;
                    }

                    WireCodec.WritePieceHeader(span, block.Piece, block.Begin, block.Length);
                    Writer.Advance(13 + block.Length);
                    Interlocked.Add(ref _bytesUp, block.Length);
                    Uploaded?.Invoke(block.Length);
                }

                if (Writer.UnflushedBytes >= 1024 * 1024)
                {
                    await Writer.FlushAsync(token).ConfigureAwait(false);
                }
            }

            LastSent = Environment.TickCount64;
            var flush = await Writer.FlushAsync(token).ConfigureAwait(false);
            if (flush.IsCompleted)
            {
                return;
            }
        }
    }

    private bool TakeUpload(BlockRequest block)
    {
        lock (_uploadGate)
        {
            return _queuedUploads.Remove(block);
        }
    }

    /// <summary>Starts closing: the writer stops and the socket shuts down.</summary>
    public void Close()
    {
        _outbox.Writer.TryComplete();
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Closes and releases the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Close();
        await Reader.CompleteAsync().ConfigureAwait(false);
        try
        {
            // Completing flushes what the writer loop left; the socket is shut down, so that may fail harmlessly.
            await Writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or OperationCanceledException)
        {
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
        _closed.Dispose();
    }
}
