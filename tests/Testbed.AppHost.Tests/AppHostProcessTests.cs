using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Testbed.TestSupport;

namespace Testbed.AppHost.Tests;

/// <summary>
/// The AppHost as a user runs it, a process with its launch profile's environment: Ctrl+C stops everything, and after a
/// SIGKILL of the AppHost no tracker, peer, chaos, inspector, DCP or dashboard process is left 10 s later.
/// </summary>
[Collection(nameof(TestbedCollection))]
public sealed class AppHostProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    [Fact]
    public Task Ctrl_C_stops_every_process() => StopAndCheckAsync(signal: 2);

    [Fact]
    public Task SIGKILL_of_the_AppHost_leaves_no_process_10_s_later() => StopAndCheckAsync(signal: 9);

    private async Task StopAndCheckAsync(int signal)
    {
        var appHost = Repository.AppHostDll;
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort()}",
            ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{FreePort()}",
            ["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://127.0.0.1:{FreePort()}",
            ["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true",
            ["DOTNET_ENVIRONMENT"] = "Development",
        };
        var home = Directory.CreateTempSubdirectory("testbed-apphost-");
        using var process = ChildProcess.Start("dotnet", [appHost, "--peers", "2"], ChildProcessOptions.InDirectory(home.FullName, environment));
        var tree = new HashSet<(int Pid, long Started)>();
        try
        {
            // Running means every service process is up: tracker, two peers, chaos, inspector, and the dashboard.
            var deadline = DateTime.UtcNow + TestbedApp.StartTimeout;
            while (true)
            {
                tree.Clear();
                foreach (var pid in Family(process.Id))
                {
                    if (StartTime(pid) is { } started)
                    {
                        tree.Add((pid, started));
                    }
                }

                var services = tree.Count(p => Command(p.Pid) is { } c && (c.Contains("Testbed.", StringComparison.Ordinal) || c.Contains("Aspire.Dashboard", StringComparison.Ordinal)) && !c.Contains(" run ", StringComparison.Ordinal));
                if (services >= 6)
                {
                    break;
                }

                Assert.False(process.HasExited, $"the AppHost ended early:\n{process.Output}");
                Assert.True(DateTime.UtcNow < deadline, $"only {services} service processes after {TestbedApp.StartTimeout.TotalSeconds:0} s:\n{process.Output}");
                await Task.Delay(500);
            }

            output.WriteLine($"{tree.Count} processes in the AppHost's family; sending signal {signal}");
            process.Signal(signal.ToString(CultureInfo.InvariantCulture));

            var sent = System.Diagnostics.Stopwatch.StartNew();
            while (tree.Any(Alive) && sent.Elapsed < Grace)
            {
                await Task.Delay(250);
            }

            output.WriteLine($"{tree.Count(p => !Alive(p))} of {tree.Count} processes gone {sent.Elapsed.TotalSeconds:0.0} s after the signal");

            var left = tree.Where(Alive).Select(p => $"{p.Pid} {Command(p.Pid)}").ToList();
            Assert.True(left.Count == 0, $"{left.Count} processes left {Grace.TotalSeconds:0} s after signal {signal}:\n{string.Join('\n', left)}");
        }
        finally
        {
            foreach (var (pid, _) in tree.Where(Alive))
            {
                ProcessTree.Signal(pid, ProcessTree.SigKill);
            }

            home.Delete(recursive: true);
        }
    }

    /// <summary>The AppHost's descendants plus DCP's: DCP detaches (its parent is init) and watches the AppHost's PID.</summary>
    private static IEnumerable<int> Family(int appHost)
    {
        var roots = new List<int> { appHost };
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) &&
                Command(pid) is { } command && command.Contains("dcp", StringComparison.Ordinal) &&
                command.Contains($"--monitor {appHost.ToString(CultureInfo.InvariantCulture)}", StringComparison.Ordinal))
            {
                roots.Add(pid);
            }
        }

        return roots.SelectMany(r => ProcessTree.Descendants(r).Prepend(r)).Distinct();
    }

    private static bool Alive((int Pid, long Started) process) =>
        StartTime(process.Pid) == process.Started && File.ReadAllText($"/proc/{process.Pid}/stat") is var stat && stat[stat.LastIndexOf(')') + 2] != 'Z';

    private static string? Command(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Field 22 of /proc/PID/stat: tells a process from a later one that got the same PID.</summary>
    private static long? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
