using Testbed.Processes;
using Xunit.Abstractions;

namespace Testbed.Torrent.Tests.Interop;

/// <summary>Standard clients (libtorrent, aria2c, transmission-cli) downloading from our seeder, and us downloading from libtorrent.</summary>
public sealed class ExternalClientTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private static readonly int[] Sizes = [300_000, 1, 70_000, 0, 524_288];

    [Fact]
    public async Task Libtorrent_downloads_a_multi_file_torrent_from_our_seeder()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateMultiFileAsync(seedDir, "multi", Sizes, 32 * 1024);
        var seed = await LibtorrentDownloadsFromUsAsync(t, torrent, seedDir, await WriteTorrentAsync(t, torrent), log);
        Assert.True(seed.Progress.BytesUploaded >= torrent.Info.TotalLength);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task We_download_a_multi_file_torrent_from_a_libtorrent_seeder_from_its_metainfo_or_only_a_magnet_link(bool magnetOnly)
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = magnetOnly
            ? await t.CreateMultiFileAsync(seedDir, "magnet", [100_000, 33_333], 16 * 1024)
            : await t.CreateMultiFileAsync(seedDir, "multi", Sizes, 16 * 1024);
        // With only the magnet link, the metadata comes from libtorrent too (BEP 9).
        await WeDownloadFromLibtorrentAsync(t, torrent, seedDir, (leecher, getDir) => magnetOnly ? leecher.AddMagnet(torrent.InfoHash, getDir) : leecher.Add(torrent.Info, getDir));
    }

    [Fact]
    public async Task Aria2c_downloads_a_multi_file_torrent_from_our_seeder()
    {
        using var t = new TestTorrents();
        var getDir = t.NewDirectory("get");
        await using var seeder = await TrackedSeeder.StartAsync(t, Sizes);
        var (seed, torrent) = (seeder.Session, seeder.Torrent);
        using var aria = ChildProcess.Start("/usr/bin/aria2c",
        [
            "--dir=" + getDir, "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
            "--enable-peer-exchange=false", "--seed-time=0", "--console-log-level=warn", "--summary-interval=0",
            "--bt-stop-timeout=80", "--file-allocation=none", "--listen-port=" + FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bt-tracker-connect-timeout=10", "--bt-tracker-timeout=10", seeder.TorrentFile,
        ]);
        var exited = await aria.WaitForExitAsync(Bound);
        log.WriteLine(aria.Output);
        Assert.True(exited && aria.ExitCode == 0, $"aria2c did not complete (tracker announces {seeder.Tracker.Announces}, seeder: {seed.Progress} {seed.LastDisconnectReason}): {aria.Output}");
        TestTorrents.AssertSameFiles(torrent.Info, seed.Directory, getDir);
    }

    [Fact]
    public async Task Transmission_downloads_a_multi_file_torrent_from_our_seeder()
    {
        using var t = new TestTorrents();
        var getDir = t.NewDirectory("get");
        var home = t.NewDirectory("home");
        await using var seeder = await TrackedSeeder.StartAsync(t, Sizes);
        var (seed, torrent, tracker) = (seeder.Session, seeder.Torrent, seeder.Tracker);

        // transmission-cli seeds forever once done, so the test watches the files and then stops it.
        // Transmission ignores 127.0.0.0/8 peers from trackers (martian addresses), so our seeder dials it instead.
        var port = FreePort();
        using var transmission = ChildProcess.Start("/usr/bin/transmission-cli",
            ["-w", getDir, "-g", Path.Combine(home, "config"), "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-D", "-U", "-M", "-et", seeder.TorrentFile],
            new ChildProcessOptions { Environment = new Dictionary<string, string?> { ["HOME"] = home } });
        await SwarmTests.WaitUntil(() => tracker.Announces > 0 || transmission.HasExited, Bound);
        seed.AddPeer(new IPEndPoint(IPAddress.Loopback, port));
        var deadline = DateTime.UtcNow + Bound;
        // Transmission 3.00 does not create zero-length files, so those are left out of its comparison.
        while (!SameFiles(torrent.Info, seed.Directory, getDir, skipEmpty: true))
        {
            if (seed.Progress.Peers == 0)
            {
                seed.AddPeer(new IPEndPoint(IPAddress.Loopback, port));
            }

            Assert.False(DateTime.UtcNow > deadline, $"transmission-cli did not complete (files: {string.Join(", ", Directory.GetFiles(getDir, "*", SearchOption.AllDirectories).Select(f => $"{f} {new FileInfo(f).Length}"))}; seeder: {seed.Progress} {seed.LastDisconnectReason}): {transmission.Output}");
            Assert.False(transmission.HasExited, $"transmission-cli exited: {transmission.Output}");
            await Task.Delay(250);
        }

        Assert.True(SameFiles(torrent.Info, seed.Directory, getDir, skipEmpty: true));
    }

    private static bool SameFiles(TorrentInfo info, string expectedDir, string actualDir, bool skipEmpty)
    {
        try
        {
            foreach (var file in info.Files.Where(f => !(skipEmpty && f.Length == 0)))
            {
                var actual = file.GetFullPath(actualDir);
                if (!File.Exists(actual) || !File.ReadAllBytes(file.GetFullPath(expectedDir)).AsSpan().SequenceEqual(File.ReadAllBytes(actual)))
                {
                    return false;
                }
            }

            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// libtorrent (download.py) fetches <paramref name="source"/> (a .torrent file or a magnet link) from our read-only seeder of
    /// <paramref name="torrent"/> and ends with the files of <paramref name="seedDir"/>; returns the seeder's session, for its counters.
    /// </summary>
    internal static async Task<TorrentSession> LibtorrentDownloadsFromUsAsync(TestTorrents t, TorrentMetainfo torrent, string seedDir, string source, ITestOutputHelper log)
    {
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent, seedDir, new TorrentSessionOptions { ReadOnly = true, UseTrackers = false });
        var getDir = t.NewDirectory("get");
        var script = await WriteScriptAsync(t, "download.py", LibtorrentScripts.Download);
        using var lt = ChildProcess.Start(LibtorrentScripts.Python, [script, source, getDir, "127.0.0.1", seeder.LocalEndPoint!.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "80"]);
        var exited = await lt.WaitForExitAsync(Bound);
        log.WriteLine(lt.Output);
        Assert.True(exited && lt.ExitCode == 0, $"libtorrent did not complete: {lt.Output}; our seeder: {seed.Progress} {seed.LastDisconnectReason} {seed.LastStorageError}");
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getDir);
        return seed;
    }

    /// <summary>
    /// Our session, made by <paramref name="add"/> (a client and the directory to download into), downloads from a libtorrent
    /// seeder of <paramref name="torrent"/> in <paramref name="seedDir"/> and ends with the same files; returns that session.
    /// </summary>
    internal static async Task<TorrentSession> WeDownloadFromLibtorrentAsync(TestTorrents t, TorrentMetainfo torrent, string seedDir, Func<TorrentClient, string, TorrentSession> add)
    {
        var (process, port) = await StartLibtorrentSeederAsync(t, torrent, seedDir);
        using var lt = process;
        var getDir = t.NewDirectory("get");
        await using var leecher = TestTorrents.NewClient();
        var get = add(leecher, getDir);
        await get.StartAsync();
        get.AddPeer(new IPEndPoint(IPAddress.Loopback, port));
        await WaitCompleteAsync(get, () => lt.Output);
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, getDir);
        return get;
    }

    /// <summary>Waits for <paramref name="get"/> to complete; past the bound the test fails with its progress and the other side's output.</summary>
    internal static async Task WaitCompleteAsync(TorrentSession get, Func<string> otherOutput)
    {
        try
        {
            await get.WaitForCompletionAsync().WaitAsync(Bound);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"incomplete: {get.Progress} {get.LastDisconnectReason}; other side: {otherOutput()}");
        }
    }

    /// <summary>A libtorrent seeder of <paramref name="torrent"/> and the port it listens on; killed if it does not start.</summary>
    internal static async Task<(ChildProcess Seeder, int Port)> StartLibtorrentSeederAsync(TestTorrents t, TorrentMetainfo torrent, string seedDir)
    {
        var torrentFile = await WriteTorrentAsync(t, torrent);
        var script = await WriteScriptAsync(t, "seed.py", LibtorrentScripts.Seed);
        var lt = ChildProcess.Start(LibtorrentScripts.Python, [script, torrentFile, seedDir]);
        try
        {
            var first = await lt.FirstLine.WaitAsync(Bound);
            Assert.True(int.TryParse(first, out var port), $"libtorrent seeder did not start: {lt.Output}");
            return (lt, port);
        }
        catch
        {
            lt.Dispose();
            throw;
        }
    }

    internal static async Task<string> WriteTorrentAsync(TestTorrents t, TorrentMetainfo torrent)
    {
        var path = Path.Combine(t.Root, Guid.NewGuid().ToString("n")[..8] + ".torrent");
        await File.WriteAllBytesAsync(path, torrent.Dictionary.Encode());
        return path;
    }

    internal static async Task<string> WriteScriptAsync(TestTorrents t, string name, string text)
    {
        var path = Path.Combine(t.Root, name);
        await File.WriteAllTextAsync(path, text);
        return path;
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
