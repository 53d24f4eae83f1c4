using System.Net.Sockets;

namespace Testbed.Cli.Tests.BadInput;

/// <summary>A file, its .torrent, and a scratch directory for the seed and get cases.</summary>
internal sealed class TorrentCase : IDisposable
{
    public TorrentCase(int length = 100_000)
    {
        Content = RandomNumberGenerator.GetBytes(length);
        var metainfo = TorrentCreator.CreateFromBytes("g.bin", Content, new TorrentCreateOptions { PieceLength = 16 * 1024 });
        Torrent = Dir.Write("g.torrent", metainfo.ToBytes());
        Magnet = MagnetLink.FromMetainfo(metainfo).ToString();
    }

    public BadInputDir Dir { get; } = new();

    public byte[] Content { get; }

    public string Torrent { get; }

    public string Magnet { get; }

    public void Dispose() => Dir.Dispose();
}

/// <summary>`testbed torrent seed FILE --dir D --listen HOST:PORT`: seeding never writes, whatever is wrong.</summary>
public sealed class TorrentSeedBadInputTests
{
    private static string[] Seed(string torrent, string dir, string listen = "127.0.0.1:0") => ["torrent", "seed", torrent, "--dir", dir, "--listen", listen, "--no-tracker"];

    [Fact]
    public async Task A_short_file_is_reported_and_left_exactly_as_it_was()
    {
        using var t = new TorrentCase();
        var data = t.Dir.File("data");
        var file = t.Dir.Write("data/g.bin", t.Content[..50_000]);
        var before = File.GetLastWriteTimeUtc(file);
        await CliProcess.FailsAsync(1, Seed(t.Torrent, data), "g.bin", "50000 bytes", "100000");
        Assert.Equal(50_000, new FileInfo(file).Length);
        Assert.Equal(t.Content[..50_000], await File.ReadAllBytesAsync(file));
        Assert.Equal(before, File.GetLastWriteTimeUtc(file));
    }

    [Fact]
    public async Task Missing_files_are_reported_and_nothing_is_created()
    {
        using var t = new TorrentCase();
        var data = t.Dir.File("empty");
        Directory.CreateDirectory(data);
        await CliProcess.FailsAsync(1, Seed(t.Torrent, data), "g.bin is missing");
        Assert.Empty(Directory.EnumerateFileSystemEntries(data));

        await CliProcess.FailsAsync(2, Seed(t.Torrent, Path.Combine(data, "missing", "deeper")), "--dir", "no such directory");
        Assert.Empty(Directory.EnumerateFileSystemEntries(data));
    }

    [Fact]
    public async Task Different_content_of_the_right_length_fails_the_check_and_is_not_touched()
    {
        using var t = new TorrentCase();
        var data = t.Dir.File("data");
        var other = RandomNumberGenerator.GetBytes(t.Content.Length);
        var file = t.Dir.Write("data/g.bin", other);
        await CliProcess.FailsAsync(1, Seed(t.Torrent, data), "pieces do not match");
        Assert.Equal(other, await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task Unusable_dir_torrent_and_listen_arguments_exit_2_in_one_line()
    {
        using var t = new TorrentCase();
        var data = t.Dir.File("data");
        t.Dir.Write("data/g.bin", t.Content);
        await CliProcess.FailsAsync(2, Seed(t.Torrent, t.Torrent), "--dir", "not a directory");
        await CliProcess.FailsAsync(2, Seed(t.Torrent, ""), "--dir", "empty");
        await CliProcess.FailsAsync(2, Seed(t.Dir.Path, data), "is a directory");
        await CliProcess.FailsAsync(2, Seed("/dev/zero", data), "device");
        await CliProcess.FailsAsync(2, Seed(t.Torrent, data, "nonsense"), "--listen", "HOST:PORT");
        await CliProcess.FailsAsync(2, Seed(t.Torrent, data, "127.0.0.1:99999"), "--listen");
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        await CliProcess.FailsAsync(2, Seed(t.Torrent, data, busy.LocalEndpoint.ToString()!), "cannot listen", "already in use");
    }
}

/// <summary>`testbed torrent get FILE|MAGNET --dir D [--peer HOST:PORT] [--timeout S] [--idle-timeout S]`.</summary>
public sealed class TorrentGetBadInputTests
{
    private static string[] Get(string torrent, string dir, params string[] more) => ["torrent", "get", torrent, "--dir", dir, "--no-tracker", .. more];

    [Theory]
    [InlineData("--timeout", "-1")]
    [InlineData("--timeout", "0")]
    [InlineData("--timeout", "2147483647")]
    [InlineData("--timeout", "soon")]
    [InlineData("--idle-timeout", "0")]
    [InlineData("--idle-timeout", "-3")]
    public async Task Out_of_range_timeouts_are_refused_naming_the_range(string option, string value)
    {
        using var t = new TorrentCase();
        var outcome = await CliProcess.FailsAsync(2, Get(t.Torrent, t.Dir.File("out"), option, value), option, "from 1 to 604800");
        Assert.DoesNotContain("System.", outcome.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(t.Dir.File("out")), "the download directory was created before the arguments were checked");
    }

    [Fact]
    public async Task A_dir_that_is_a_file_or_unwritable_is_refused_before_the_download()
    {
        using var t = new TorrentCase();
        await CliProcess.FailsAsync(2, Get(t.Torrent, t.Torrent), "--dir", "not a directory");
        await CliProcess.FailsAsync(2, Get(t.Torrent, ""), "--dir", "empty");
        if (t.Dir.Unwritable() is { } locked)
        {
            await CliProcess.FailsAsync(2, Get(t.Torrent, locked), "--dir", "not writable");
        }
    }

    [Fact]
    public async Task A_refused_peer_ends_the_download_with_the_reason_instead_of_waiting_forever()
    {
        using var t = new TorrentCase();
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var outcome = await CliProcess.FailsAsync(1, Get(t.Torrent, t.Dir.File("out"), "--peer", $"127.0.0.1:{port}", "--idle-timeout", "3"), "incomplete", "refused the connection");
        Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(30), outcome.ToString());
    }

    [Fact]
    public async Task A_black_holed_peer_is_named_as_not_answering()
    {
        using var t = new TorrentCase();
        // Accepts the connection and never says a word: the handshake times out.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<Socket>();
        var acceptLoop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    accepted.Add(await silent.AcceptSocketAsync());
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        });
        try
        {
            var outcome = await CliProcess.FailsAsync(1, Get(t.Torrent, t.Dir.File("out"), "--peer", silent.LocalEndpoint.ToString()!, "--idle-timeout", "14"), "incomplete", "did not answer");
            Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(60), outcome.ToString());
        }
        finally
        {
            silent.Stop();
            await acceptLoop;
            accepted.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task A_total_timeout_names_itself()
    {
        using var t = new TorrentCase();
        await CliProcess.FailsAsync(1, Get(t.Torrent, t.Dir.File("out"), "--timeout", "2"), "incomplete", "2 s timeout", "no peer");
    }

    [Fact]
    public async Task Bad_magnets_torrents_and_peers_exit_2_in_one_line()
    {
        using var t = new TorrentCase();
        var output = t.Dir.File("out");
        await CliProcess.FailsAsync(2, Get("magnet:?xt=urn:btih:nothex", output), "magnet link");
        await CliProcess.FailsAsync(2, Get(t.Dir.File("none.torrent"), output), "no such file");
        await CliProcess.FailsAsync(2, Get(t.Torrent, output, "--peer", "nowhere"), "--peer", "HOST:PORT");
        await CliProcess.FailsAsync(2, Get(t.Torrent, output, "--listen", "1.2.3.4.5:6"), "--listen");
        var random = new Random(BadInputs.Seed);
        for (var i = 0; i < 6; i++)
        {
            var garbage = t.Dir.Write($"g{i}.torrent", BadInputs.RandomBytes(random, random.Next(1, 2000)));
            await CliProcess.FailsAsync(2, Get(garbage, output), "cannot load");
        }
    }
}
