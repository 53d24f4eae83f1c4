using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Testbed.AppHost.AppModel;
using Testbed.AppHost.Orchestration;

namespace Testbed.IntegrationTests;

/// <summary>The AppHost as a real process, as a user runs it: children die with it, even when it is SIGKILLed.</summary>
[Collection(ProcessCollection.Name)]
public sealed class AppHostProcessTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task A_SIGKILLed_AppHost_leaves_no_orphans()
    {
        await using var appHost = await RunningAppHost.StartAsync();
        var children = await appHost.ChildPidsAsync();
        Assert.NotEmpty(children);
        Assert.All(children, pid => Assert.True(ProcessTable.IsAlive(pid)));

        appHost.Process.Kill(entireProcessTree: false);
        await appHost.Process.WaitForExitAsync();

        // The children notice the AppHost is gone on their own (ServiceDefaults' ParentProcessWatch polls every 250 ms).
        var survivors = await ProcessTable.WaitUntilGoneAsync(children, TimeSpan.FromSeconds(15));
        Assert.True(survivors.Count == 0, $"orphans still running: {string.Join(", ", survivors.Select(pid => $"{pid} {ProcessTable.CommandLine(pid)}"))}");
    }

    [Fact]
    public async Task A_paused_child_of_a_SIGKILLed_AppHost_does_not_linger_stopped()
    {
        await using var appHost = await RunningAppHost.StartAsync();
        var children = await appHost.ChildPidsAsync();
        using (var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = appHost.ControlApi })
        {
            using var paused = await http.PostAsync(new Uri("api/resources/tracker/commands/pause", UriKind.Relative), content: null);
            Assert.True(paused.IsSuccessStatusCode, await paused.Content.ReadAsStringAsync());
        }

        var trackerPid = children[0];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ProcessTable.State(trackerPid) != 'T' && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal('T', ProcessTable.State(trackerPid));
        appHost.Process.Kill(entireProcessTree: false);
        await appHost.Process.WaitForExitAsync();

        // Its own process group is orphaned by the AppHost's death, so the kernel sends it SIGHUP and SIGCONT.
        var survivors = await ProcessTable.WaitUntilGoneAsync(children, TimeSpan.FromSeconds(15));
        Assert.True(survivors.Count == 0, $"still there: {string.Join(", ", survivors.Select(pid => $"{pid} state {ProcessTable.State(pid)}"))}");
    }

    [Fact]
    public async Task SIGTERM_stops_the_resources_in_order_and_the_AppHost_exits_cleanly()
    {
        await using var appHost = await RunningAppHost.StartAsync();
        var children = await appHost.ChildPidsAsync();
        Assert.NotEmpty(children);

        using (var term = Process.Start("kill", ["-TERM", appHost.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await appHost.Process.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, appHost.Process.ExitCode);
        Assert.Contains("Stopped in", appHost.Output, StringComparison.Ordinal);
        Assert.Empty(await ProcessTable.WaitUntilGoneAsync(children, TimeSpan.FromSeconds(5)));
    }

    /// <summary>`dotnet AppHost.dll --no-build --control-port 0` with its output captured; disposing kills it and its children.</summary>
    private sealed class RunningAppHost : IAsyncDisposable
    {
        private readonly System.Text.StringBuilder _output = new();
        private readonly List<int> _children = [];

        private RunningAppHost(Process process) => Process = process;

        public Process Process { get; }

        public Uri ControlApi { get; private set; } = null!;

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static async Task<RunningAppHost> StartAsync()
        {
            var options = new AppHostOptions();
            var dll = Path.Combine(options.ResolveProjectDirectory(), "bin", AppHostOptions.BuiltConfiguration, "net10.0", "AppHost.dll");
            Assert.True(File.Exists(dll), $"{dll} is missing; the test project's reference builds it");
            var startInfo = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { dll, "--no-build", "--control-port", "0", "--dashboard-port", "0", "--otlp-grpc-port", "0", "--otlp-http-port", "0" })
            {
                startInfo.ArgumentList.Add(arg);
            }

            var appHost = new RunningAppHost(Process.Start(startInfo)!);
            var controlLine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnLine(string? line)
            {
                if (line is null)
                {
                    return;
                }

                lock (appHost._output)
                {
                    appHost._output.AppendLine(line);
                }

                if (line.StartsWith("control-api: ", StringComparison.Ordinal))
                {
                    controlLine.TrySetResult(line["control-api: ".Length..].Trim());
                }
            }

            appHost.Process.OutputDataReceived += (_, e) => OnLine(e.Data);
            appHost.Process.ErrorDataReceived += (_, e) => OnLine(e.Data);
            appHost.Process.BeginOutputReadLine();
            appHost.Process.BeginErrorReadLine();
            try
            {
                var exited = appHost.Process.WaitForExitAsync();
                var first = await Task.WhenAny(controlLine.Task, exited, Task.Delay(TimeSpan.FromSeconds(90)));
                Assert.True(first == controlLine.Task, $"the AppHost did not report its control API:{Environment.NewLine}{appHost.Output}");
                appHost.ControlApi = new Uri(await controlLine.Task);
                return appHost;
            }
            catch
            {
                await appHost.DisposeAsync();
                throw;
            }
        }

        /// <summary>Pids of every resource, from the control API; all of them must be running.</summary>
        public async Task<IReadOnlyList<int>> ChildPidsAsync()
        {
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = ControlApi };
            var resources = await http.GetFromJsonAsync<ResourceSnapshot[]>(new Uri("api/resources", UriKind.Relative), Json);
            Assert.NotNull(resources);
            Assert.All(resources, resource => Assert.Equal(ResourceState.Running, resource.State));
            var pids = resources.Select(resource => resource.Pid!.Value).ToArray();
            Assert.All(pids, pid => Assert.Equal(Process.Id, ParentOf(pid)));
            _children.AddRange(pids);
            return pids;
        }

        public async ValueTask DisposeAsync()
        {
            // Cleanup even when the test failed: the AppHost, then any child that survived it.
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                await Process.WaitForExitAsync();
            }

            foreach (var pid in _children.Where(ProcessTable.IsAlive))
            {
                try
                {
                    using var child = Process.GetProcessById(pid);
                    child.Kill(entireProcessTree: true);
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
            }

            Process.Dispose();
        }

        private static int? ParentOf(int pid)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
