using Testbed.Processes;

namespace Testbed.Tracker.Tests.Interop;

/// <summary>
/// Real BitTorrent clients (libtorrent via python3-libtorrent, aria2c, transmission-cli) against
/// the tracker on loopback: each announces over HTTP and over UDP, and two clients find each other
/// through it and complete a download. Every client process is killed when its test ends.
/// </summary>
public sealed class InteropTests : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private readonly string _directory = Directory.CreateTempSubdirectory("tracker-interop-").FullName;

    private static string LtClient => Path.Combine(AppContext.BaseDirectory, "Interop", "lt_client.py");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A client may still hold a file for a moment; the temp directory is cleaned by the OS.
        }
    }

    public static TheoryData<string> Transports => ["http", "udp"];

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Libtorrent_announces(string transport)
    {
        await using var tracker = await TrackerServer.StartAsync();
        var (torrent, hash) = await MakeTorrentAsync(tracker, transport);
        using var client = ChildProcess.Start(Python, [LtClient, "run", torrent, NewDirectory("lt")], ChildProcessOptions.InDirectory(_directory));
        await WaitForPeersAsync(tracker, hash, 1, client);
        await WaitUntilAsync(() => client.Lines.Any(l => l.StartsWith("tracker_reply", StringComparison.Ordinal)), client, "libtorrent never reported a tracker reply");
        // A timed-out first attempt on a loaded machine is retried by libtorrent, so problems before the reply are not failures.
        Assert.Equal(1, tracker.Store.Scrape(hash).Leechers);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Aria2c_announces(string transport)
    {
        await using var tracker = await TrackerServer.StartAsync();
        var (torrent, hash) = await MakeTorrentAsync(tracker, transport);
        var arguments = Aria2Arguments(torrent, NewDirectory("aria2"));
        if (transport == "udp")
        {
            // aria2 sends UDP tracker requests from its DHT socket, so it only speaks BEP 15 with DHT on.
            arguments = ["--enable-dht=true", $"--dht-listen-port={FreeUdpPort()}", $"--dht-file-path={Path.Combine(_directory, "dht.dat")}", .. arguments[1..]];
        }

        using var client = ChildProcess.Start("aria2c", arguments, ChildProcessOptions.InDirectory(_directory));
        await WaitForPeersAsync(tracker, hash, 1, client);
        Assert.Equal(1, tracker.Store.Scrape(hash).Leechers);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Transmission_announces(string transport)
    {
        await using var tracker = await TrackerServer.StartAsync();
        var (torrent, hash) = await MakeTorrentAsync(tracker, transport);
        using var client = ChildProcess.Start(
            "transmission-cli",
            ["-g", NewDirectory("transmission-config"), "-w", NewDirectory("transmission"), "-M", "-p", FreeTcpPort().ToString(System.Globalization.CultureInfo.InvariantCulture), torrent],
            ChildProcessOptions.InDirectory(_directory));
        await WaitForPeersAsync(tracker, hash, 1, client);
        Assert.Equal(1, tracker.Store.Scrape(hash).Leechers);
    }

    [Fact]
    public async Task Libtorrent_seeder_and_aria2c_leecher_complete_a_download_over_http()
    {
        await using var tracker = await TrackerServer.StartAsync();
        var (torrent, hash) = await MakeTorrentAsync(tracker, "http");
        using var seeder = ChildProcess.Start(Python, [LtClient, "seed", torrent, SeedDirectory], ChildProcessOptions.InDirectory(_directory));
        await WaitUntilAsync(() => tracker.Store.Scrape(hash).Seeders == 1, seeder, "the libtorrent seeder never announced");

        var target = NewDirectory("aria2-leech");
        using var leecher = ChildProcess.Start("aria2c", Aria2Arguments(torrent, target), ChildProcessOptions.InDirectory(_directory));
        Assert.True(await leecher.WaitForExitAsync(Patience), "aria2c did not finish: " + leecher.Output);
        Assert.True(leecher.ExitCode == 0, "aria2c failed: " + leecher.Output);
        Assert.Equal(await File.ReadAllBytesAsync(DataFile), await File.ReadAllBytesAsync(Path.Combine(target, "data.bin")));
    }

    [Fact]
    public async Task Two_libtorrent_clients_complete_a_download_over_udp()
    {
        await using var tracker = await TrackerServer.StartAsync();
        var (torrent, hash) = await MakeTorrentAsync(tracker, "udp");
        using var seeder = ChildProcess.Start(Python, [LtClient, "seed", torrent, SeedDirectory], ChildProcessOptions.InDirectory(_directory));
        await WaitUntilAsync(() => tracker.Store.Scrape(hash).Seeders == 1, seeder, "the libtorrent seeder never announced");

        var target = NewDirectory("lt-leech");
        using var leecher = ChildProcess.Start(Python, [LtClient, "run", torrent, target], ChildProcessOptions.InDirectory(_directory));
        Assert.True(await leecher.WaitForExitAsync(Patience), "libtorrent leecher did not finish: " + leecher.Output);
        Assert.True(leecher.ExitCode == 0, "libtorrent leecher failed: " + leecher.Output);
        Assert.Contains(leecher.Lines, l => l.StartsWith("tracker_reply", StringComparison.Ordinal) && l != "tracker_reply 0");
        Assert.Equal(await File.ReadAllBytesAsync(DataFile), await File.ReadAllBytesAsync(Path.Combine(target, "data.bin")));
    }

    private string SeedDirectory => Path.Combine(_directory, "seed");

    private string DataFile => Path.Combine(SeedDirectory, "data.bin");

    private static string[] Aria2Arguments(string torrent, string target) =>
    [
        "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
        "--seed-time=0", "--summary-interval=0", "--console-log-level=notice", "--stop=300",
        $"--dir={target}", torrent,
    ];

    private async Task<(string Torrent, InfoHash Hash)> MakeTorrentAsync(TrackerServer tracker, string transport)
    {
        Directory.CreateDirectory(SeedDirectory);
        var data = new byte[(300 * 1024) + 123];
        new Random(transport.Length).NextBytes(data);
        await File.WriteAllBytesAsync(DataFile, data);
        var url = transport == "http" ? tracker.AnnounceUrl.ToString() : tracker.UdpAnnounceUrl;
        var torrent = Path.Combine(_directory, $"{transport}.torrent");
        var made = await ChildProcess.RunAsync(Python, [LtClient, "make", DataFile, torrent, url], TimeSpan.FromMinutes(2), ChildProcessOptions.InDirectory(_directory));
        return (torrent, InfoHash.ParseHex(made.EnsureSuccess().StandardOutput.Trim().Split('\n')[^1].Trim()));
    }

    private string NewDirectory(string name) => Directory.CreateDirectory(Path.Combine(_directory, name)).FullName;

    private static Task WaitForPeersAsync(TrackerServer tracker, InfoHash hash, int peers, ChildProcess client) =>
        WaitUntilAsync(() => tracker.Store.Scrape(hash).Peers >= peers, client, $"the tracker never saw {peers} peer(s) on {hash}");

    private static async Task WaitUntilAsync(Func<bool> condition, ChildProcess client, string failure)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{failure}; client output:\n{client.Output}");
            }

            await Task.Delay(100);
        }
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
