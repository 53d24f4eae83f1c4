using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Testbed.Tracker.Swarms;
using Testbed.Tracker.Telemetry;

namespace Testbed.Tracker.Http;

/// <summary>
/// Kestrel's listening socket for the tracker's HTTP endpoint, with a fast path: one thread accepts connections and,
/// when a connection's first packet is exactly one complete `GET /announce` or `GET /scrape` head, answers it right
/// there (peek, parse, announce, one send, close) with no pipe, no HTTP context, no middleware and no thread hop.
/// Every other connection, and a kept-alive one after its first answer, is handed to Kestrel as a socket connection,
/// so `/health`, other paths and methods, split or oversized requests and later requests behave exactly as before.
/// </summary>
internal sealed partial class AnnounceSocketListener : IConnectionListener
{
    // A head beyond this is never an announce a client sends; Kestrel (with its own limits) takes it.
    private const int HeadBufferSize = 4096;

    // An answer up to this size always fits a fresh connection's send buffer, so the blocking send cannot stall.
    private const int InlineSendLimit = 8192;

    // Linux: accept only once the client's first data has arrived (TCP_DEFER_ACCEPT, seconds), so the head is there.
    private const int IpProtocolTcp = 6;
    private const int TcpDeferAccept = 9;

    private readonly Socket _listen;
    private readonly HttpAnnounceHandler _handler;
    private readonly SocketConnectionContextFactory _contexts;
    private readonly ILogger _logger;
    private readonly Channel<Socket> _toKestrel = Channel.CreateUnbounded<Socket>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly ConcurrentDictionary<Task, bool> _sending = new();
    private readonly Thread _thread;
    private readonly byte[] _head = new byte[HeadBufferSize];
    private readonly char[] _query = new char[HeadBufferSize];
    private readonly ArrayBufferWriter<byte> _body = new(1024);
    private readonly ArrayBufferWriter<byte> _response = new(1024);
    private byte[] _lastHost = [];
    private string? _lastUrl;
    private volatile bool _stopping;

    private AnnounceSocketListener(Socket listen, HttpAnnounceHandler handler, SocketConnectionContextFactory contexts, ILogger logger)
    {
        _listen = listen;
        _handler = handler;
        _contexts = contexts;
        _logger = logger;
        EndPoint = listen.LocalEndPoint!;
        _thread = new Thread(AcceptLoop) { IsBackground = true, Name = "tracker-http-accept" };
    }

    /// <inheritdoc />
    public EndPoint EndPoint { get; }

    /// <summary>Binds and listens on <paramref name="endpoint"/> and starts the accept thread.</summary>
    public static AnnounceSocketListener Bind(
        IPEndPoint endpoint, int backlog, HttpAnnounceHandler handler, SocketConnectionContextFactory contexts, ILogger logger)
    {
        var listen = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                listen.DualMode = true;
            }

            listen.Bind(endpoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            listen.Dispose();
            throw new AddressInUseException(e.Message, e);
        }
        catch
        {
            listen.Dispose();
            throw;
        }

        if (OperatingSystem.IsLinux())
        {
            listen.SetRawSocketOption(IpProtocolTcp, TcpDeferAccept, BitConverter.GetBytes(1));
        }

        // No timeout: on Unix a socket with one is non-blocking, and every wait for a connection would go through the
        // epoll thread and a thread-pool hop. Disposing the socket wakes the blocked accept when unbinding.
        listen.Listen(backlog);
        var listener = new AnnounceSocketListener(listen, handler, contexts, logger);
        listener._thread.Start();
        return listener;
    }

    /// <inheritdoc />
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (await _toKestrel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_toKestrel.Reader.TryRead(out var socket))
                {
                    socket.NoDelay = true;
                    return _contexts.Create(socket);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Kestrel stopped accepting.
        }

        return null;
    }

    /// <inheritdoc />
    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _stopping = true;
        _listen.Dispose(); // wakes the accept thread
        await Task.Run(_thread.Join, CancellationToken.None).ConfigureAwait(false);
        _toKestrel.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_sending.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Out of time: a slow reader's answer is dropped with the connection.
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_stopping)
        {
            await UnbindAsync().ConfigureAwait(false);
        }

        while (_toKestrel.Reader.TryRead(out var socket))
        {
            socket.Dispose();
        }
    }

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            Socket client;
            try
            {
                client = _listen.Accept();
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                if (_stopping)
                {
                    return;
                }

                // Running out of descriptors and the like: the listener stays, the connection is lost.
                LogAcceptFailed(_logger, e);
                continue;
            }

            try
            {
                if (!TryServe(client))
                {
                    HandToKestrel(client);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A reset by the client or a bug costs this connection, never the listener.
                LogServeFailed(_logger, e);
                client.Dispose();
            }
        }
    }

    /// <summary>Answers the connection's first request when it is a whole announce or scrape; false to leave it to Kestrel untouched.</summary>
    private bool TryServe(Socket client)
    {
        var available = client.Available;
        if (available is 0 or > HeadBufferSize)
        {
            return false;
        }

        // Peeked, not read: until the head is known to be ours, Kestrel must still see every byte.
        var peeked = client.Receive(_head, SocketFlags.Peek);
        if (!RequestHead.TryParse(_head.AsSpan(0, peeked), out var head) || head.Length != peeked)
        {
            return false;
        }

        client.Receive(_head.AsSpan(0, peeked));
        WriteResponse(client, head);
        if (_response.WrittenCount <= InlineSendLimit)
        {
            client.Send(_response.WrittenSpan);
            Finish(client, head.KeepAlive);
        }
        else
        {
            // A large answer (the dictionary model with many peers) to a slow reader must not hold up the accept thread.
            SendLater(client, _response.WrittenSpan.ToArray(), head.KeepAlive);
        }

        return true;
    }

    private void Finish(Socket client, bool keepAlive)
    {
        if (keepAlive)
        {
            HandToKestrel(client);
        }
        else
        {
            client.Dispose();
        }
    }

    private void HandToKestrel(Socket client)
    {
        if (!_toKestrel.Writer.TryWrite(client))
        {
            client.Dispose(); // unbound meanwhile
        }
    }

    private void SendLater(Socket client, byte[] response, bool keepAlive)
    {
        var sending = SendAsync(client, response, keepAlive);
        _sending.TryAdd(sending, true);
        sending.ContinueWith(done => _sending.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task SendAsync(Socket client, byte[] response, bool keepAlive)
    {
        try
        {
            await client.SendAsync(response, SocketFlags.None).ConfigureAwait(false);
            Finish(client, keepAlive);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            client.Dispose();
        }
    }

    private void WriteResponse(Socket client, in RequestHead head)
    {
        var bytes = _head.AsSpan(0, head.Length);
        var (offset, length) = head.Query.GetOffsetAndLength(bytes.Length);
        var query = _query.AsSpan(0, length);
        Encoding.ASCII.GetChars(bytes.Slice(offset, length), query);
        var address = client.RemoteEndPoint is IPEndPoint remote ? PeerAddress.From(remote.Address) : (PeerAddress?)null;
        _body.ResetWrittenCount();
        if (head.Path == HttpTrackerEndpoints.AnnouncePath)
        {
            var listening = TrackerTelemetry.Source.HasListeners();
            _handler.Announce(query, address, listening ? Url(bytes[head.Host]) : null, listening ? Parent(bytes, head) : default, _body);
        }
        else
        {
            _handler.Scrape(query, address, _body);
        }

        _response.ResetWrittenCount();
        Append("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "u8);
        Utf8Formatter.TryFormat(_body.WrittenCount, _response.GetSpan(16), out var digits);
        _response.Advance(digits);
        Append(!head.KeepAlive ? "\r\nConnection: close\r\n\r\n"u8 : head.Http10 ? "\r\nConnection: keep-alive\r\n\r\n"u8 : "\r\n\r\n"u8);
        Append(_body.WrittenSpan);
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_response.GetSpan(bytes.Length));
        _response.Advance(bytes.Length);
    }

    private string Url(ReadOnlySpan<byte> host)
    {
        // Clients announce to one URL, so the last one is almost always the next one.
        if (_lastUrl is null || !host.SequenceEqual(_lastHost))
        {
            _lastHost = host.ToArray();
            _lastUrl = $"http://{Encoding.ASCII.GetString(host)}{HttpTrackerEndpoints.AnnouncePath}";
        }

        return _lastUrl;
    }

    private static ActivityContext Parent(ReadOnlySpan<byte> bytes, in RequestHead head)
    {
        var traceParent = bytes[head.TraceParent];
        if (traceParent.IsEmpty)
        {
            return default;
        }

        var traceState = bytes[head.TraceState];
        return ActivityContext.TryParse(
            Encoding.ASCII.GetString(traceParent), traceState.IsEmpty ? null : Encoding.ASCII.GetString(traceState), isRemote: true, out var parent)
            ? parent
            : default;
    }

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Tracker HTTP accept failed")]
    private static partial void LogAcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 22, Level = LogLevel.Debug, Message = "Tracker HTTP fast path dropped a connection")]
    private static partial void LogServeFailed(ILogger logger, Exception exception);
}
