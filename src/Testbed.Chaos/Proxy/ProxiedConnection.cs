using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Testbed.Chaos.Proxy;

/// <summary>
/// A client socket joined to an upstream socket by two pumps (source to destination, destination to source), each
/// applying its direction's partition and data toxics, plus a watcher for the connection-level toxics (reset, stall close).
/// </summary>
internal sealed class ProxiedConnection(Socket client, Socket upstream, string source, string destination, int port, LinkTable links)
{
    private const int ChunkBytes = 16 * 1024;
    private readonly CancellationTokenSource _closing = new();
    private readonly DateTimeOffset _openedAt = DateTimeOffset.UtcNow;
    private readonly long _openedTimestamp = Stopwatch.GetTimestamp();
    private long _forward;
    private long _backward;
    private int _aborted;

    public string Source { get; } = source;

    public string Destination { get; } = destination;

    public int Port { get; } = port;

    public ProxyConnectionInfo Info => new(Source, Destination, Port, Interlocked.Read(ref _forward), Interlocked.Read(ref _backward), _openedAt);

    /// <summary>Closes <paramref name="socket"/> with a TCP RST.</summary>
    public static void ResetAndDispose(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone: nothing to reset.
        }

        socket.Dispose();
    }

    /// <summary>Sends FIN before closing, so the far end reads the end of the stream rather than a reset.</summary>
    private static void CloseGracefully(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Not connected any more: just close.
        }

        socket.Dispose();
    }

    /// <summary>Pumps both directions until both ended, one failed, a toxic closed the connection or the proxy stops.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, _closing.Token);
        var token = linked.Token;
        var forward = PumpAsync(client, upstream, Source, Destination, bytes => Interlocked.Add(ref _forward, bytes), token);
        var backward = PumpAsync(upstream, client, Destination, Source, bytes => Interlocked.Add(ref _backward, bytes), token);
        var watcher = WatchAsync(token);
        try
        {
            await Task.WhenAll(forward, backward).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException or ChannelClosedException)
        {
            // One side failed or a toxic closed the connection: close both below.
        }
        finally
        {
            Abort(reset: false);
            try
            {
                await watcher.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Expected: the watcher ends with the connection.
            }
        }
    }

    /// <summary>Ends the connection: both sockets closed, with an RST when <paramref name="reset"/>.</summary>
    public void Abort(bool reset)
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        if (reset)
        {
            ResetAndDispose(client);
            ResetAndDispose(upstream);
        }
        else
        {
            CloseGracefully(client);
            CloseGracefully(upstream);
        }

        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already cleaned up.
        }
    }

    private async Task PumpAsync(Socket from, Socket to, string source, string destination, Action<long> count, CancellationToken token)
    {
        var chunks = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(32) { SingleReader = true, SingleWriter = true });

        var reader = ReadAsync(from, chunks.Writer, token);
        var writer = new DirectionWriter(to, links, source, destination, count, () => Abort(reset: false));
        await foreach (var chunk in chunks.Reader.ReadAllAsync(token).ConfigureAwait(false))
        {
            await writer.DeliverAsync(chunk, token).ConfigureAwait(false);
        }

        await reader.ConfigureAwait(false);
        // The source finished sending: pass the half-close on.
        to.Shutdown(SocketShutdown.Send);
    }

    private static async Task ReadAsync(Socket from, ChannelWriter<Chunk> chunks, CancellationToken token)
    {
        var buffer = new byte[ChunkBytes];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                await chunks.WriteAsync(new Chunk(buffer.AsSpan(0, read).ToArray(), Stopwatch.GetTimestamp()), token).ConfigureAwait(false);
            }

            chunks.TryComplete();
        }
        catch (Exception e)
        {
            chunks.TryComplete(e);
            throw;
        }
    }

    private async Task WatchAsync(CancellationToken token)
    {
        long? resetSeen = null;
        long? stallSeen = null;
        while (true)
        {
            var changed = links.WaitForChangeAsync(token);
            var states = new[] { links.Get(Source, Destination), links.Get(Destination, Source) };
            var reset = states.Select(s => s.Find<ResetToxic>()).OfType<ResetToxic>().MinBy(t => t.After);
            var stall = states.Select(s => s.Find<StallToxic>()).OfType<StallToxic>().Where(t => t.CloseAfter is not null).MinBy(t => t.CloseAfter);
            var now = Stopwatch.GetTimestamp();
            resetSeen = reset is null ? null : resetSeen ?? Math.Max(now, _openedTimestamp);
            stallSeen = stall is null ? null : stallSeen ?? now;

            var waits = new List<TimeSpan>();
            if (reset is not null)
            {
                var left = reset.After - Stopwatch.GetElapsedTime(resetSeen!.Value);
                if (left <= TimeSpan.Zero)
                {
                    Abort(reset: true);
                    return;
                }

                waits.Add(left);
            }

            if (stall is not null)
            {
                var left = stall.CloseAfter!.Value - Stopwatch.GetElapsedTime(stallSeen!.Value);
                if (left <= TimeSpan.Zero)
                {
                    Abort(reset: false);
                    return;
                }

                waits.Add(left);
            }

            if (waits.Count == 0)
            {
                await changed.ConfigureAwait(false);
            }
            else
            {
                await Task.WhenAny(changed, Task.Delay(waits.Min(), token)).ConfigureAwait(false);
                token.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>Bytes read from one side, and when.</summary>
    private sealed record Chunk(byte[] Data, long ReadAt);

    /// <summary>Writes one direction's chunks through its partition and data toxics.</summary>
    private sealed class DirectionWriter(Socket to, LinkTable links, string source, string destination, Action<long> count, Action close)
    {
        private long _lastRelease;
        private long _sent;

        public async Task DeliverAsync(Chunk chunk, CancellationToken token)
        {
            LinkState state;
            while (true)
            {
                // Take the signal before the state, so a change between the two is not missed.
                var changed = links.WaitForChangeAsync(token);
                state = links.Get(source, destination);
                if (!state.Blocked && state.Find<StallToxic>() is null)
                {
                    break;
                }

                await changed.ConfigureAwait(false);
            }

            if (state.Find<LatencyToxic>() is { } latency)
            {
                var jitter = latency.Jitter > TimeSpan.Zero ? (Random.Shared.NextDouble() * 2 - 1) * latency.Jitter.TotalMilliseconds : 0;
                var delay = TimeSpan.FromMilliseconds(Math.Max(0, latency.Latency.TotalMilliseconds + jitter));
                var release = Math.Max(chunk.ReadAt + (long)(delay.TotalSeconds * Stopwatch.Frequency), _lastRelease);
                _lastRelease = release;
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), release);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, token).ConfigureAwait(false);
                }
            }

            var slicer = state.Find<SlicerToxic>();
            var data = chunk.Data.AsMemory();
            var first = true;
            while (!data.IsEmpty)
            {
                var size = data.Length;
                if (slicer is not null)
                {
                    if (!first && slicer.Delay > TimeSpan.Zero)
                    {
                        await Task.Delay(slicer.Delay, token).ConfigureAwait(false);
                    }

                    var variation = slicer.SizeVariation > 0 ? Random.Shared.Next(-slicer.SizeVariation, slicer.SizeVariation + 1) : 0;
                    size = Math.Clamp(slicer.AverageSize + variation, 1, data.Length);
                }

                first = false;
                var bandwidth = links.Get(source, destination).Find<BandwidthToxic>();
                if (bandwidth is not null)
                {
                    // Small writes keep the rate smooth: at most a tenth of a second's worth at once.
                    size = (int)Math.Clamp(bandwidth.BytesPerSecond / 10, 1, size);
                }

                var limit = links.Get(source, destination).Find<LimitDataToxic>();
                var closeAfter = false;
                if (limit is not null && _sent + size >= limit.Bytes)
                {
                    size = (int)Math.Max(0, limit.Bytes - _sent);
                    closeAfter = true;
                }

                await SendAllAsync(data[..size], token).ConfigureAwait(false);
                _sent += size;
                count(size);
                data = data[size..];
                if (closeAfter)
                {
                    close();
                    throw new OperationCanceledException($"limit_data of {limit!.Bytes} bytes reached on {source}->{destination}");
                }

                if (bandwidth is not null)
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)size / bandwidth.BytesPerSecond), token).ConfigureAwait(false);
                }
            }
        }

        private async Task SendAllAsync(ReadOnlyMemory<byte> data, CancellationToken token)
        {
            while (!data.IsEmpty)
            {
                var sent = await to.SendAsync(data, SocketFlags.None, token).ConfigureAwait(false);
                data = data[sent..];
            }
        }
    }
}
