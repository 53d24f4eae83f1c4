using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using Testbed.TestSupport.BadInput;
using Testbed.Torrent.PeerWire;
using Testbed.Torrent.Storage;
using Xunit.Abstractions;

namespace Testbed.Torrent.Tests.BadInput;

/// <summary>
/// The peer wire (a seeding client's listener) against garbage: bad handshakes, silent connections, hostile length
/// prefixes and generated message streams. Every bad connection is closed, the client's memory stays bounded, and an
/// honest peer still downloads everything afterwards.
/// </summary>
public sealed class PeerWireBadInputTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private static async Task<bool> ClosedAsync(Socket socket, TimeSpan timeout)
    {
        var buffer = new byte[4096];
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                if (await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token) == 0)
                {
                    return true;
                }
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<Socket> DialAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint);
        return socket;
    }

    [Fact]
    public async Task Generated_garbage_handshakes_are_closed_and_an_honest_peer_still_downloads()
    {
        await using var seeder = await ReadOnlySeeder.StartAsync(100_000, new TorrentClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(2) });

        var random = new Random(BadInputs.Seed);
        var valid = Handshake.Create(seeder.Torrent.InfoHash.ToArray(), Handshake.NewPeerId()).ToBytes();
        for (var i = 0; i < 30; i++)
        {
            byte[] garbage = random.Next(4) switch
            {
                0 => BadInputs.RandomBytes(random, random.Next(1, 200)),
                1 => [.. valid[..random.Next(1, valid.Length)]],
                2 => MutateHandshake(valid, random),
                _ => Handshake.Create(BadInputs.RandomBytes(random, 20), Handshake.NewPeerId()).ToBytes(),
            };
            using var socket = await DialAsync(seeder.EndPoint);
            await socket.SendAsync(garbage);
            Assert.True(await ClosedAsync(socket, TimeSpan.FromSeconds(15)), $"garbage handshake #{i} was not closed (seed {BadInputs.Seed})");
        }

        await seeder.AssertHonestDownloadAsync();
    }

    [Fact]
    public async Task Silent_connections_are_dropped_after_the_handshake_timeout_and_do_not_lock_peers_out()
    {
        await using var seeder = await ReadOnlySeeder.StartAsync(60_000, new TorrentClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(1), MaxPendingHandshakes = 16 });

        var silent = new List<Socket>();
        for (var i = 0; i < 40; i++)
        {
            silent.Add(await DialAsync(seeder.EndPoint));
        }

        var watch = Stopwatch.StartNew();
        foreach (var socket in silent)
        {
            Assert.True(await ClosedAsync(socket, TimeSpan.FromSeconds(20)), "a silent connection stayed open");
            socket.Dispose();
        }

        output.WriteLine($"40 silent connections closed within {watch.Elapsed.TotalSeconds:0.0} s");
        await seeder.AssertHonestDownloadAsync();
    }

    [Theory]
    [InlineData(0xFFFFFFFFu, (byte)MessageId.Piece)]
    [InlineData(0x7FFFFFFFu, (byte)MessageId.Bitfield)]
    [InlineData(1u << 24, (byte)20)]
    [InlineData(1u << 20, (byte)MessageId.Request)]
    public async Task A_hostile_length_prefix_is_refused_before_its_body(uint length, byte id)
    {
        await using var seeder = await ReadOnlySeeder.StartAsync(50_000);
        var before = Process.GetCurrentProcess().PrivateMemorySize64;

        await using var peer = await RawPeer.ConnectAsync(seeder.EndPoint, seeder.Torrent.InfoHash);
        var head = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(head, length);
        head[4] = id;
        await peer.SendRawAsync(head);
        // The body is never sent: the connection must close on the prefix alone, not wait for (or reserve) the bytes.
        Assert.True(await peer.WaitClosedAsync(Generous), $"a {length}-byte message was waited for");
        Assert.True(Process.GetCurrentProcess().PrivateMemorySize64 - before < 256L * 1024 * 1024, "memory was reserved for the announced body");
        await SwarmTests.WaitUntil(() => seeder.Session.LastDisconnectReason is not null, Generous);
        await seeder.AssertHonestDownloadAsync();
    }

    [Fact]
    public async Task Generated_message_streams_after_a_valid_handshake_end_in_a_closed_connection_or_are_ignored()
    {
        await using var seeder = await ReadOnlySeeder.StartAsync(80_000);

        var random = new Random(BadInputs.Seed);
        for (var i = 0; i < 20; i++)
        {
            await using var peer = await RawPeer.ConnectAsync(seeder.EndPoint, seeder.Torrent.InfoHash);
            var stream = new List<byte>();
            for (var m = random.Next(1, 8); m > 0; m--)
            {
                var body = BadInputs.RandomBytes(random, random.Next(0, 64));
                var id = random.Next(3) == 0 ? random.Next(256) : random.Next(0, 21);
                var prefix = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(prefix, random.Next(4) == 0 ? random.Next() : body.Length + 1);
                stream.AddRange(prefix);
                stream.Add((byte)id);
                stream.AddRange(body);
            }

            try
            {
                await peer.SendRawAsync(stream.ToArray());
            }
            catch (SocketException)
            {
                // Closed while we were still sending: a refusal.
            }
        }

        // Whatever each stream did, the seeder still serves and never wrote to the read-only data.
        await seeder.AssertHonestDownloadAsync();
        Assert.Null(seeder.Session.LastStorageError);
    }

    private static byte[] MutateHandshake(byte[] valid, Random random)
    {
        var copy = (byte[])valid.Clone();
        copy[random.Next(0, 20)] ^= (byte)random.Next(1, 256);
        return copy;
    }

    /// <summary>What each test abuses: a client on loopback seeding a single-file torrent read-only, in its own directories.</summary>
    private sealed class ReadOnlySeeder(TestTorrents t, string seedDir, TorrentMetainfo torrent, TorrentClient client, TorrentSession session) : IAsyncDisposable
    {
        public TorrentMetainfo Torrent => torrent;

        public TorrentSession Session => session;

        public IPEndPoint EndPoint => client.LocalEndPoint!;

        /// <summary>Seeds <paramref name="size"/> bytes in 16 KiB pieces with <paramref name="options"/> (listening on a free loopback port).</summary>
        public static async Task<ReadOnlySeeder> StartAsync(int size, TorrentClientOptions? options = null)
        {
            var t = new TestTorrents();
            var seedDir = t.NewDirectory("seed");
            var torrent = await t.CreateSingleFileAsync(seedDir, "data.bin", size, 16 * 1024);
            var client = new TorrentClient((options ?? new TorrentClientOptions()) with { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
            var session = await client.AddStartedAsync(torrent.Info, seedDir, new TorrentSessionOptions { ReadOnly = true });
            return new ReadOnlySeeder(t, seedDir, torrent, client, session);
        }

        /// <summary>A fresh honest leecher downloads the whole torrent from the seeder.</summary>
        public async Task AssertHonestDownloadAsync()
        {
            await using var leecher = TestTorrents.NewClient();
            var get = await leecher.AddStartedAsync(torrent.Info, t.NewDirectory("get-" + Guid.NewGuid().ToString("n")[..6]));
            get.AddPeer(EndPoint);
            await get.WaitForCompletionAsync().WaitAsync(Generous);
            TestTorrents.AssertSameFiles(torrent.Info, seedDir, get.Directory);
        }

        public async ValueTask DisposeAsync()
        {
            await client.DisposeAsync();
            t.Dispose();
        }
    }
}

/// <summary>Storage and metainfo against unusable files: seeding never writes, special files are refused by kind.</summary>
public sealed class StorageBadInputTests
{
    [Fact]
    public async Task A_read_only_session_reports_short_and_missing_files_and_changes_nothing()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateMultiFileAsync(seedDir, "tree", [30_000, 20_000, 10_000], 16 * 1024);
        var data = t.NewDirectory("data");
        var top = Path.Combine(data, "tree");
        Directory.CreateDirectory(top);
        var shortFile = Path.Combine(top, "file0.bin");
        var original = (await File.ReadAllBytesAsync(Path.Combine(seedDir, "tree", "file0.bin")))[..12_345];
        await File.WriteAllBytesAsync(shortFile, original);
        var written = File.GetLastWriteTimeUtc(shortFile);

        await using var client = TestTorrents.NewClient();
        var session = client.Add(torrent.Info, data, new TorrentSessionOptions { ReadOnly = true, UseTrackers = false });
        var error = await Assert.ThrowsAsync<TorrentDataException>(() => session.StartAsync());
        Assert.Contains("file0.bin is 12345 bytes, the torrent says 30000", error.Message, StringComparison.Ordinal);
        Assert.Contains(error.Problems, p => p.Contains("file1.bin is missing", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("file2.bin is missing", StringComparison.Ordinal));
        Assert.Equal(original, await File.ReadAllBytesAsync(shortFile));
        Assert.Equal(written, File.GetLastWriteTimeUtc(shortFile));
        Assert.False(Directory.Exists(Path.Combine(top, "sub")), "a directory was created by a seeder");
        Assert.Equal([shortFile], Directory.GetFiles(data, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Read_only_storage_refuses_writes()
    {
        var layout = new TorrentLayout(4, [new FileSpan("a", 4, false)], new byte[20]);
        using var dir = new TestTorrents();
        using var storage = new PieceStorage(layout, dir.Root, readOnly: true);
        Assert.Throws<ReadOnlyStorageException>(() => storage.WritePiece(0, new byte[4]));
        Assert.Throws<ReadOnlyStorageException>(storage.EnsureFiles);
        Assert.False(File.Exists(Path.Combine(dir.Root, "a")));
    }

    [Fact]
    public async Task A_fifo_where_a_file_should_be_is_treated_as_missing_instead_of_blocking()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "data.bin", 40_000, 16 * 1024);
        var data = t.NewDirectory("data");
        using (var mkfifo = Process.Start("mkfifo", [Path.Combine(data, "data.bin")]))
        {
            await mkfifo.WaitForExitAsync();
            if (mkfifo.ExitCode != 0)
            {
                return;
            }
        }

        using var storage = new PieceStorage(TorrentLayout.FromInfo(torrent.Info), data);
        var check = Task.Run(() => storage.Check());
        Assert.Same(check, await Task.WhenAny(check, Task.Delay(TimeSpan.FromSeconds(20))));
        Assert.Equal(0, (await check).Count);
        Assert.Contains("pipe", Assert.Single(storage.FindMissing()), StringComparison.Ordinal);
        Assert.Throws<IOException>(storage.EnsureFiles);
    }

    [Fact]
    public async Task Torrents_of_and_from_special_files_are_refused_by_kind()
    {
        var device = await Assert.ThrowsAnyAsync<IOException>(() => TorrentCreator.CreateFromPathAsync("/dev/zero", new TorrentCreateOptions()));
        Assert.Contains("device", device.Message, StringComparison.Ordinal);
        var load = await Assert.ThrowsAnyAsync<IOException>(() => TorrentMetainfo.LoadFileAsync("/dev/zero"));
        Assert.Contains("device", load.Message, StringComparison.Ordinal);
        var directory = await Assert.ThrowsAnyAsync<IOException>(() => TorrentMetainfo.LoadFileAsync(Path.GetTempPath()));
        Assert.Contains("directory", directory.Message, StringComparison.Ordinal);
    }
}
