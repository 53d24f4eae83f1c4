using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Testbed.Processes;

namespace Testbed.Torrent.Tests.Trackers;

/// <summary>A real opentracker (Debian's whitelist-only build) on loopback, killed on dispose.</summary>
/// <remarks>
/// opentracker listens before it has read its whitelist: a thread of its own reads the file after start-up (about 5 ms
/// later when idle, much later on a busy machine), and until then it turns every torrent away ("not authorized" over HTTP,
/// an empty 8-byte answer over UDP). So the tracker counts as started only once it has served an announce for
/// <see cref="ReadinessProbe"/>, the whitelist's last entry; the list is swapped in whole, so by then every entry is in.
/// </remarks>
internal sealed class OpenTrackerProcess : IAsyncDisposable
{
    private static readonly InfoHash ReadinessProbe = InfoHash.Compute("opentracker-readiness-probe"u8);
    private readonly ChildProcess _process;
    private readonly string _directory;

    private OpenTrackerProcess(ChildProcess process, string directory, int httpPort, int udpPort)
    {
        _process = process;
        _directory = directory;
        HttpAnnounceUri = new Uri($"http://127.0.0.1:{httpPort}/announce");
        UdpAnnounceUri = new Uri($"udp://127.0.0.1:{udpPort}");
    }

    public Uri HttpAnnounceUri { get; }

    public Uri UdpAnnounceUri { get; }

    public static async Task<OpenTrackerProcess> StartAsync(IEnumerable<InfoHash> whitelist)
    {
        const string executable = "/usr/bin/opentracker";
        if (!OperatingSystem.IsLinux() || !File.Exists(executable))
        {
            throw new InvalidOperationException($"{executable} is missing: install the Debian package 'opentracker' (test.sh does)");
        }

        var directory = Directory.CreateTempSubdirectory("opentracker-").FullName;
        var whitelistFile = Path.Combine(directory, "whitelist");
        await File.WriteAllLinesAsync(whitelistFile, whitelist.Append(ReadinessProbe).Select(h => h.ToHex()));

        // Started as root, opentracker drops to user 'nobody' before reading the whitelist, so both must be world-readable.
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(whitelistFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        // Ports are picked free just before start; on the rare race with another process (opentracker then exits, unable
        // to bind), try again.
        for (var attempt = 1; ; attempt++)
        {
            var httpPort = FreePort(SocketType.Stream, ProtocolType.Tcp);
            var udpPort = FreePort(SocketType.Dgram, ProtocolType.Udp);
            string[] arguments = ["-i", "127.0.0.1", "-p", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-P", udpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-w", whitelistFile];
            var tracker = new OpenTrackerProcess(ChildProcess.Start(executable, arguments, new ChildProcessOptions { WorkingDirectory = directory }), directory, httpPort, udpPort);
            var failure = await tracker.WaitUntilReadyAsync(httpPort);
            if (failure is null)
            {
                return tracker;
            }

            await tracker.StopAsync(deleteDirectory: attempt >= 3);
            if (attempt >= 3)
            {
                throw new InvalidOperationException($"opentracker was not ready after 3 attempts; the last: {failure}; its output: {tracker._process.Output}");
            }
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(deleteDirectory: true);

    private static int FreePort(SocketType type, ProtocolType protocol)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, type, protocol);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>An HTTP announce for the probe torrent, on a connection of its own; null if the reply was not a 200 answer.</summary>
    private static async Task<string?> AnnounceProbeAsync(int httpPort)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, httpPort, timeout.Token);
        var stream = client.GetStream();
        var request = $"GET /announce?info_hash={ReadinessProbe.ToUrlEncoded()}&peer_id=-TB0001-readyprobe00&port=9&uploaded=0&downloaded=0&left=0&compact=1&numwant=0 HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        using var reply = new MemoryStream();
        await stream.CopyToAsync(reply, timeout.Token);
        var text = Encoding.Latin1.GetString(reply.ToArray());
        return text.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal) || text.StartsWith("HTTP/1.0 200 ", StringComparison.Ordinal)
            ? text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]
            : null;
    }

    /// <summary>Waits until opentracker serves an announce for the whitelisted probe torrent; null when it does, else why not.</summary>
    private async Task<string?> WaitUntilReadyAsync(int httpPort)
    {
        var deadline = Stopwatch.StartNew();
        var last = "no answer yet";
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited)
            {
                return $"opentracker exited with {_process.ExitCode} ({last})";
            }

            try
            {
                var body = await AnnounceProbeAsync(httpPort);
                if (body is not null && body.Contains("8:interval", StringComparison.Ordinal) && !body.Contains("failure reason", StringComparison.Ordinal))
                {
                    return null;
                }

                // Listening, but the whitelist is not in yet ("not authorized").
                last = body ?? "not a 200 answer";
            }
            catch (Exception error) when (error is SocketException or IOException or OperationCanceledException)
            {
                // Not listening yet.
                last = error.Message;
            }

            await Task.Delay(20);
        }

        return $"no announce for the whitelisted probe torrent was served within 30 s (last: {last})";
    }

    private async Task StopAsync(bool deleteDirectory)
    {
        await _process.DisposeAsync();
        if (deleteDirectory)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
