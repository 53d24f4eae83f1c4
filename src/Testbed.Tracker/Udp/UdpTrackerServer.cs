using System.Net;
using System.Net.Sockets;
using Testbed.Tracker.Swarms;

namespace Testbed.Tracker.Udp;

/// <summary>
/// The BEP 15 endpoint: one socket, a few receive threads, each with its own pinned buffers reused
/// for every datagram. The socket is bound in <see cref="StartAsync"/>, so the port is known (and
/// taken) as soon as the host has started.
/// </summary>
public sealed partial class UdpTrackerServer : IHostedService, IAsyncDisposable
{
    private const int ReceiveBufferSize = 2048;

    private readonly IPEndPoint _endpoint;
    private readonly UdpPacketHandler _handler;
    private readonly int _loops;
    private readonly int _maxPeers;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _socket;
    private Task[] _running = [];

    /// <summary>Creates the server; nothing is bound until <see cref="StartAsync"/>.</summary>
    public UdpTrackerServer(IPEndPoint endpoint, UdpPacketHandler handler, int loops, int maxPeers, ILogger<UdpTrackerServer> logger)
    {
        _endpoint = endpoint;
        _handler = handler;
        _loops = loops > 0 ? loops : Math.Clamp(Environment.ProcessorCount, 1, 4);
        _maxPeers = Math.Max(1, maxPeers);
        _logger = logger;
    }

    /// <summary>The bound address and port (after start).</summary>
    public IPEndPoint? LocalEndPoint => _socket?.LocalEndPoint as IPEndPoint;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var bound = new Socket(_endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (_endpoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                bound.DualMode = true;
            }

            bound.ReceiveBufferSize = 4 * 1024 * 1024;
            bound.Bind(_endpoint);
        }
        catch
        {
            bound.Dispose();
            throw;
        }

        _socket = bound;
        _handler.TrackerUrl = $"udp://{LocalEndPoint}/announce";
        LogListening(_logger, LocalEndPoint!.ToString());
        // No receive timeout: on Unix a socket with one is non-blocking, and every wait for a datagram would go through
        // the epoll thread and a thread-pool hop before this loop's thread woke. Disposing the socket wakes it on stop.
        _running = Enumerable.Range(0, _loops).Select(i =>
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    ReceiveLoop(bound, _stopping.Token);
                    done.SetResult();
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            })
            {
                IsBackground = true,
                Name = $"udp-tracker-{i}",
            };
            thread.Start();
            return done.Task;
        }).ToArray();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        await Task.WhenAll(_running).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        _socket?.Dispose();
        try
        {
            await Task.WhenAll(_running).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping is the expected end of the loops.
        }

        _stopping.Dispose();
    }

    /// <summary>Reads the client's address out of a native socket address without allocating an endpoint.</summary>
    internal static PeerAddress ClientAddress(SocketAddress address)
    {
        var bytes = address.Buffer.Span;
        // sockaddr_in: family(2) port(2) addr(4); sockaddr_in6: family(2) port(2) flowinfo(4) addr(16).
        return address.Family == AddressFamily.InterNetwork
            ? PeerAddress.FromV4(bytes.Slice(4, 4))
            : PeerAddress.FromV6(bytes.Slice(8, 16));
    }

    private void ReceiveLoop(Socket bound, CancellationToken cancellationToken)
    {
        // Blocking calls on a dedicated thread: under load every datagram is already waiting, so this
        // is one recvfrom and one sendto per announce, with no async state machine or thread-pool hop.
        var receive = GC.AllocateUninitializedArray<byte>(ReceiveBufferSize, pinned: true);
        var send = GC.AllocateUninitializedArray<byte>(UdpPacketHandler.MaxResponseSize, pinned: true);
        var peers = new PeerEndpoint[_maxPeers];
        var remote = new SocketAddress(bound.AddressFamily);
        while (!cancellationToken.IsCancellationRequested)
        {
            int received;
            try
            {
                received = bound.ReceiveFrom(receive, SocketFlags.None, remote);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                // Oversized datagrams and ICMP errors from earlier sends surface here; the socket stays usable.
                LogReceiveFailed(_logger, e.SocketErrorCode);
                continue;
            }

            int length;
            try
            {
                length = _handler.Handle(receive.AsSpan(0, received), ClientAddress(remote), send, peers);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A bug must cost one datagram, never the tracker.
                LogHandlerFailed(_logger, e);
                continue;
            }

            if (length == 0)
            {
                continue;
            }

            try
            {
                bound.SendTo(send.AsSpan(0, length), SocketFlags.None, remote);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                LogSendFailed(_logger, e.SocketErrorCode);
            }
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "UDP tracker listening on {Endpoint}")]
    private static partial void LogListening(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "UDP receive failed: {Error}")]
    private static partial void LogReceiveFailed(ILogger logger, SocketError error);

    [LoggerMessage(EventId = 12, Level = LogLevel.Debug, Message = "UDP send failed: {Error}")]
    private static partial void LogSendFailed(ILogger logger, SocketError error);

    [LoggerMessage(EventId = 13, Level = LogLevel.Error, Message = "UDP request handler failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception);
}
