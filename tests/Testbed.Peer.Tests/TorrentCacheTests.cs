using System.Buffers;
using System.Text;
using Testbed.Peer.Faults;
using Testbed.Peer.Propagation;
using Testbed.Torrent.Messages;
using Testbed.Torrent.PeerWire;
using Testbed.Torrent.Sessions;

namespace Testbed.Peer.Tests;

/// <summary>The peer's block and segment downloads when their source goes away (a crashed peer), in process.</summary>
public sealed class TorrentCacheTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_block_download_whose_only_source_closes_the_connection_fails_long_before_its_timeout_naming_the_reason()
    {
        var scratch = Path.Combine(Path.GetTempPath(), "testbed-cache-tests", Guid.NewGuid().ToString("n")[..12]);
        try
        {
            var token = Encoding.ASCII.GetBytes("eyJhbGciOiJFUzI1NiJ9." + new string('x', 40_000) + ".c2ln");
            var info = TorrentCache.Describe("0a0b0c.jws", token);
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(4);
            var source = (IPEndPoint)listener.LocalEndPoint!;
            await using var client = new TorrentClient(new TorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
            await using var cache = new TorrentCache(client, scratch, "peer-test", new FaultState(), capacity: 8);

            // A 60 s download timeout, as a loaded testbed might use: the failure must not wait for it.
            var timeout = TimeSpan.FromSeconds(60);
            var watch = Stopwatch.StartNew();
            var download = cache.DownloadAsync(info, [source], timeout, CancellationToken.None);

            // The source has the block, is asked for it, and its process dies before it answers.
            using (var seeder = await listener.AcceptAsync())
            {
                await ServeUntilRequestedAsync(seeder, info.InfoHash.ToArray());
            }

            var failure = await Assert.ThrowsAnyAsync<Exception>(() => download.WaitAsync(timeout * 2));
            output.WriteLine($"failed after {watch.Elapsed.TotalSeconds:0.000} s: {failure.GetType().Name}: {failure.Message}");
            Assert.Contains($"its only source {source} closed the connection", failure.Message, StringComparison.Ordinal);
            Assert.Contains(info.InfoHash.ToHex(), failure.Message, StringComparison.Ordinal);
            Assert.Contains("0a0b0c.jws", failure.Message, StringComparison.Ordinal);
            Assert.Empty(cache.Infos);
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Answers the handshake, claims every piece, unchokes, and returns once a block is requested.</summary>
    private static async Task ServeUntilRequestedAsync(Socket socket, byte[] infoHash)
    {
        var handshake = new byte[Handshake.Length];
        for (var read = 0; read < handshake.Length;)
        {
            var n = await socket.ReceiveAsync(handshake.AsMemory(read));
            Assert.True(n > 0, "the downloader closed during the handshake");
            read += n;
        }

        var writer = new ArrayBufferWriter<byte>();
        writer.Write(Handshake.Create(infoHash, Handshake.NewPeerId()).ToBytes());
        WireCodec.Write(writer, StateMessage.HaveAll);
        WireCodec.Write(writer, StateMessage.Unchoke);
        await socket.SendAsync(writer.WrittenMemory);

        var limits = new WireLimits(null);
        var buffer = new byte[64 * 1024];
        var held = 0;
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(held), patience.Token);
            Assert.True(n > 0, "the downloader closed before asking for a block");
            held += n;
            var sequence = new ReadOnlySequence<byte>(buffer, 0, held);
            while (WireCodec.TryRead(ref sequence, limits, out var message))
            {
                if (message is BlockMessage { Id: MessageId.Request })
                {
                    return;
                }
            }

            var consumed = held - (int)sequence.Length;
            Array.Copy(buffer, consumed, buffer, 0, held - consumed);
            held -= consumed;
        }
    }
}
