using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Testbed.Bench;

/// <summary>
/// The tracker bench's closed-loop load generator: each client thread sends announces (HTTP, closing or keeping the
/// connection, or UDP with its connect step) and counts the answers, the same for every tracker measured.
/// </summary>
internal static class AnnounceLoad
{
    /// <summary>How one HTTP exchange ended.</summary>
    internal enum HttpOutcome
    {
        Ok,
        Failed,
        ClosedBeforeResponse,
    }

    internal static void HttpClientLoop(IPEndPoint endpoint, AnnounceWorkload workload, int client, bool close, AnnounceCounters counters, ManualResetEventSlim stop)
    {
        var request = new byte[1024];
        var response = new byte[16 * 1024];
        Socket? socket = null;
        var sequence = client;
        try
        {
            while (!stop.IsSet)
            {
                var reused = socket is not null;
                socket ??= Connect(endpoint);
                var length = workload.WriteHttpRequest(request, sequence, endpoint, close);
                var outcome = HttpExchange(socket, request.AsSpan(0, length), response, out var keepAlive);
                if (outcome == HttpOutcome.ClosedBeforeResponse && reused)
                {
                    // The server closed an idle keep-alive connection: retry on a new one, as any HTTP client does.
                    socket.Dispose();
                    socket = null;
                    continue;
                }

                sequence += 7919;
                Interlocked.Increment(ref outcome == HttpOutcome.Ok ? ref counters.Ok : ref counters.Failed);
                if (!keepAlive || outcome != HttpOutcome.Ok)
                {
                    socket.Dispose();
                    socket = null;
                }
            }
        }
        finally
        {
            socket?.Dispose();
        }
    }

    internal static Socket Connect(IPEndPoint endpoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 5000, SendTimeout = 5000 };
        // Closing with RST keeps thousands of short-lived connections from piling up in TIME_WAIT.
        socket.LingerState = new LingerOption(true, 0);
        socket.Connect(endpoint);
        return socket;
    }

    internal static HttpOutcome HttpExchange(Socket socket, ReadOnlySpan<byte> request, byte[] response, out bool keepAlive)
    {
        keepAlive = false;
        var filled = 0;
        try
        {
            socket.Send(request);
            var headerEnd = -1;
            while (headerEnd < 0)
            {
                var read = socket.Receive(response.AsSpan(filled));
                if (read == 0)
                {
                    return filled == 0 ? HttpOutcome.ClosedBeforeResponse : HttpOutcome.Failed;
                }

                filled += read;
                headerEnd = response.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
                if (headerEnd < 0 && filled == response.Length)
                {
                    return HttpOutcome.Failed;
                }
            }

            var head = Encoding.ASCII.GetString(response, 0, headerEnd);
            var contentLength = -1;
            var closes = head.StartsWith("HTTP/1.0", StringComparison.Ordinal);
            foreach (var line in head.Split("\r\n"))
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                {
                    contentLength = int.Parse(line.AsSpan(15).Trim(), CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase))
                {
                    closes = line.Contains("close", StringComparison.OrdinalIgnoreCase);
                }
            }

            var bodyStart = headerEnd + 4;
            var bodyEnd = contentLength >= 0 ? bodyStart + contentLength : -1;
            if (bodyEnd > response.Length)
            {
                return HttpOutcome.Failed;
            }

            while (bodyEnd < 0 || filled < bodyEnd)
            {
                var read = socket.Receive(response.AsSpan(filled));
                if (read == 0)
                {
                    if (bodyEnd < 0)
                    {
                        bodyEnd = filled;
                        closes = true;
                        break;
                    }

                    return HttpOutcome.Failed;
                }

                filled += read;
            }

            keepAlive = !closes && contentLength >= 0;
            var body = response.AsSpan(bodyStart, bodyEnd - bodyStart);
            var ok = head.StartsWith("HTTP/1.", StringComparison.Ordinal) && head.AsSpan(9, 3).SequenceEqual("200") &&
                     body.StartsWith("d"u8) && body.IndexOf("5:peers"u8) >= 0 && body.IndexOf("failure reason"u8) < 0;
            return ok ? HttpOutcome.Ok : HttpOutcome.Failed;
        }
        catch (SocketException)
        {
            // A reset before any byte of the answer is the server having closed the connection.
            return filled == 0 ? HttpOutcome.ClosedBeforeResponse : HttpOutcome.Failed;
        }
    }

    internal static void UdpClientLoop(IPEndPoint endpoint, AnnounceWorkload workload, int client, AnnounceCounters counters, ManualResetEventSlim stop)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
        socket.Connect(endpoint);
        var packet = new byte[128];
        var reply = new byte[2048];
        var transaction = client << 20;
        var sequence = client;
        ulong? connectionId = null;
        var connectedAt = Stopwatch.StartNew();
        while (!stop.IsSet)
        {
            if (connectionId is null || connectedAt.Elapsed > TimeSpan.FromSeconds(50))
            {
                connectionId = UdpConnect(socket, ++transaction, reply);
                connectedAt.Restart();
                if (connectionId is null)
                {
                    Interlocked.Increment(ref counters.Failed);
                    continue;
                }
            }

            var length = workload.WriteUdpAnnounce(packet, connectionId.Value, ++transaction, sequence);
            sequence += 7919;
            var ok = UdpExchange(socket, packet.AsSpan(0, length), transaction, reply, out var action) && action == 1;
            if (!ok)
            {
                connectionId = null;
            }

            Interlocked.Increment(ref ok ? ref counters.Ok : ref counters.Failed);
        }
    }

    internal static ulong? UdpConnect(Socket socket, int transaction, byte[] reply)
    {
        Span<byte> packet = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(packet, 0x41727101980);
        BinaryPrimitives.WriteInt32BigEndian(packet[8..], 0);
        BinaryPrimitives.WriteInt32BigEndian(packet[12..], transaction);
        return UdpExchange(socket, packet, transaction, reply, out var action) && action == 0
            ? BinaryPrimitives.ReadUInt64BigEndian(reply.AsSpan(8))
            : null;
    }

    internal static bool UdpExchange(Socket socket, ReadOnlySpan<byte> packet, int transaction, byte[] reply, out int action)
    {
        action = -1;
        try
        {
            socket.Send(packet);
            while (true)
            {
                var read = socket.Receive(reply);
                if (read < 8)
                {
                    continue;
                }

                if (BinaryPrimitives.ReadInt32BigEndian(reply.AsSpan(4)) != transaction)
                {
                    continue; // a late answer to an earlier, timed-out request
                }

                action = BinaryPrimitives.ReadInt32BigEndian(reply);
                return action != 3 && read >= (action == 1 ? 20 : 16);
            }
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>Announces answered and failed, counted by every client thread.</summary>
internal sealed class AnnounceCounters
{
    public long Ok;
    public long Failed;
}

/// <summary>The announces every client sends: the same torrents, peers and parameters for both trackers.</summary>
internal sealed class AnnounceWorkload
{
    private readonly string[] _escapedHashes;
    private readonly int _peersPerTorrent;

    public AnnounceWorkload(int torrents, int peersPerTorrent)
    {
        _peersPerTorrent = peersPerTorrent;
        var random = new Random(20_260_101);
        InfoHashes = Enumerable.Range(0, torrents).Select(_ =>
        {
            var hash = new byte[20];
            random.NextBytes(hash);
            return hash;
        }).ToArray();
        _escapedHashes = InfoHashes.Select(h => string.Concat(h.Select(b => "%" + b.ToString("X2", CultureInfo.InvariantCulture)))).ToArray();
    }

    public byte[][] InfoHashes { get; }

    public int WriteHttpRequest(byte[] destination, int sequence, IPEndPoint host, bool close)
    {
        var connectionHeader = close ? "Connection: close\r\n" : "";
        var (torrent, peer) = Pick(sequence);
        var text = $"GET /announce?info_hash={_escapedHashes[torrent]}&peer_id=-BT0001-{torrent:D4}{peer:D8}&port={10_000 + peer}&uploaded=0&downloaded=0&left={Left(peer)}&numwant=50&compact=1&no_peer_id=1 HTTP/1.1\r\nHost: {host}\r\n{connectionHeader}\r\n";
        return Encoding.ASCII.GetBytes(text, destination);
    }

    public int WriteUdpAnnounce(byte[] destination, ulong connectionId, int transaction, int sequence)
    {
        var (torrent, peer) = Pick(sequence);
        var packet = destination.AsSpan(0, 98);
        packet.Clear();
        BinaryPrimitives.WriteUInt64BigEndian(packet, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(packet[8..], 1);
        BinaryPrimitives.WriteInt32BigEndian(packet[12..], transaction);
        InfoHashes[torrent].CopyTo(packet[16..]);
        Encoding.ASCII.GetBytes($"-BT0001-{torrent:D4}{peer:D8}", packet[36..]);
        BinaryPrimitives.WriteInt64BigEndian(packet[64..], Left(peer));
        BinaryPrimitives.WriteInt32BigEndian(packet[92..], 50);
        BinaryPrimitives.WriteUInt16BigEndian(packet[96..], (ushort)(10_000 + peer));
        return 98;
    }

    private (int Torrent, int Peer) Pick(int sequence)
    {
        var n = (uint)sequence;
        return ((int)(n % (uint)InfoHashes.Length), (int)(n / (uint)InfoHashes.Length % (uint)_peersPerTorrent));
    }

    private static long Left(int peer) => peer % 5 == 0 ? 0 : 65_536;
}
