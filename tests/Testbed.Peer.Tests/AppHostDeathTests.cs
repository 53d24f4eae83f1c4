using Testbed.Processes;

namespace Testbed.Peer.Tests;

/// <summary>
/// A peer outlives its AppHost by a moment only, whatever it is doing when the AppHost dies: still starting, or running with
/// a stop that would hang on a telemetry endpoint that accepts and never answers (a dashboard dying with the AppHost).
/// The "AppHost" here is a sleep process whose pid the peer is given, as the real one gives its own.
/// </summary>
[Collection(nameof(PeerProcesses))]
public sealed class AppHostDeathTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The watch polls every 0.25 s and allows a graceful stop 1 s; the rest is margin for a loaded machine.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(4);

    private readonly TcpListener _silentDashboard = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _held = [];
    private readonly string _dataRoot = Directory.CreateTempSubdirectory("testbed-apphost-death-").FullName;

    public Task InitializeAsync()
    {
        _silentDashboard.Start();
        _ = HoldConnectionsAsync();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _silentDashboard.Stop();
        _held.ForEach(s => s.Dispose());
        Directory.Delete(_dataRoot, recursive: true);
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_peer_ends_within_4_s_of_its_AppHosts_death(bool running)
    {
        using var appHost = ChildProcess.Start("sleep", ["120"]);
        await using var peer = ServiceProcess.Start("peer-1", ServiceProcess.ProjectDll("Testbed.Peer"), new Dictionary<string, string>
        {
            ["TESTBED_PARENT_PID"] = appHost.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{((IPEndPoint)_silentDashboard.LocalEndpoint).Port}",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            [PeerSettings.PeerName.EnvironmentVariable] = "peer-1",
            [PeerSettings.DataDir.EnvironmentVariable] = Path.Combine(_dataRoot, running ? "running" : "starting"),
            [PeerSettings.DifficultyBits.EnvironmentVariable] = "4",
        });
        if (running)
        {
            await peer.WaitHealthyAsync(PeerNetwork.Patience);
        }

        appHost.Kill();
        await appHost.WaitForExitAsync();
        var died = Stopwatch.StartNew();
        var ended = await peer.WaitForExitAsync(Bound);
        output.WriteLine($"the peer {(ended ? "ended" : "was still running")} {died.Elapsed.TotalSeconds:0.00} s after its AppHost died");
        Assert.True(ended, $"the peer outlived its AppHost by {Bound.TotalSeconds:0} s:\n{peer.Tail}");
        Assert.DoesNotContain("Unhandled exception", peer.Tail, StringComparison.Ordinal);
    }

    private async Task HoldConnectionsAsync()
    {
        try
        {
            while (true)
            {
                _held.Add(await _silentDashboard.AcceptSocketAsync());
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
        }
    }
}
