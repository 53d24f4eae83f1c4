using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Tests.Trackers;

/// <summary>A real opentracker (Debian's whitelist-only build) on loopback, killed on dispose.</summary>
internal sealed class OpenTrackerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly string directory;

    private OpenTrackerProcess(Process process, string directory, int httpPort, int udpPort)
    {
        this.process = process;
        this.directory = directory;
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
        await File.WriteAllLinesAsync(whitelistFile, whitelist.Select(h => h.ToHex()));

        // Started as root, opentracker drops to user 'nobody' before reading the whitelist, so both must be world-readable.
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(whitelistFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        // Ports are picked free just before start; on the rare race with another process, try again.
        for (var attempt = 1; ; attempt++)
        {
            var httpPort = FreePort(SocketType.Stream, ProtocolType.Tcp);
            var udpPort = FreePort(SocketType.Dgram, ProtocolType.Udp);
            var start = new ProcessStartInfo(executable)
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { "-i", "127.0.0.1", "-p", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-P", udpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-w", whitelistFile })
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("opentracker did not start");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var tracker = new OpenTrackerProcess(process, directory, httpPort, udpPort);
            if (await tracker.WaitUntilListeningAsync(httpPort))
            {
                return tracker;
            }

            await tracker.StopAsync(deleteDirectory: attempt >= 3);
            if (attempt >= 3)
            {
                throw new InvalidOperationException("opentracker did not start listening after 3 attempts");
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

    private async Task<bool> WaitUntilListeningAsync(int httpPort)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
            {
                return false;
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, httpPort);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        return false;
    }

    private async Task StopAsync(bool deleteDirectory)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
            if (deleteDirectory)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
