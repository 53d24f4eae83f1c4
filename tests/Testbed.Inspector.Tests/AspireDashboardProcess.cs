using System.Collections.Concurrent;
using System.Reflection;
using System.Text.RegularExpressions;
using Testbed.Processes;

namespace Testbed.Inspector.Tests;

/// <summary>
/// The real Aspire dashboard (NuGet package Aspire.Dashboard.Sdk.linux-x64 13.6.5, its tools/Aspire.Dashboard executable)
/// started standalone on loopback: frontend and telemetry API, OTLP/gRPC and OTLP/HTTP each on a port the dashboard binds
/// itself (port 0, read back from its log), the telemetry API enabled with an API key, frontend and OTLP unsecured. Killed
/// with its process tree on dispose, whatever happened; its output is kept for failure messages.
/// </summary>
internal sealed partial class AspireDashboardProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly ConcurrentQueue<string> _output = new();
    private readonly string _home;
    private ChildProcess? _process;

    private AspireDashboardProcess(string apiKey, string home)
    {
        ApiKey = apiKey;
        _home = home;
    }

    /// <summary>The frontend: UI pages and the telemetry API (/api/telemetry/...).</summary>
    public Uri FrontendUrl { get; private set; } = null!;

    public Uri OtlpGrpcUrl { get; private set; } = null!;

    public Uri OtlpHttpUrl { get; private set; } = null!;

    /// <summary>Dashboard:Api:PrimaryApiKey.</summary>
    public string ApiKey { get; }

    /// <summary>The newest output lines.</summary>
    public string Output => string.Join('\n', _output.TakeLast(80));

    /// <summary>The executable the package's build targets name (AspireDashboardPath, recorded in this assembly at build).</summary>
    public static string ExecutablePath
    {
        get
        {
            var path = typeof(AspireDashboardProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .SingleOrDefault(a => a.Key == "AspireDashboardPath")?.Value;
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"The Aspire dashboard executable is not at '{path}': restore the test project (PackageReference Aspire.Dashboard.Sdk.linux-x64 sets AspireDashboardPath).");
            }

            return path;
        }
    }

    /// <summary>Starts a dashboard and waits (at most 90 s) until its telemetry API answers with the key.</summary>
    public static async Task<AspireDashboardProcess> StartAsync()
    {
        var home = Directory.CreateTempSubdirectory("inspector-dashboard-").FullName;
        var dashboard = new AspireDashboardProcess("key-" + Guid.NewGuid().ToString("N"), home);
        try
        {
            await dashboard.LaunchAsync("http://127.0.0.1:0", "http://127.0.0.1:0", "http://127.0.0.1:0");
            return dashboard;
        }
        catch
        {
            await dashboard.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the dashboard (SIGKILL, like a crash) and waits for it to end.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        if (process is null)
        {
            return;
        }

        _process = null;
        await process.DisposeAsync();
    }

    /// <summary>Starts the dashboard again on the same addresses (a restarted dashboard holds no telemetry).</summary>
    public Task RestartAsync() => LaunchAsync(FrontendUrl.ToString().TrimEnd('/'), OtlpGrpcUrl.ToString().TrimEnd('/'), OtlpHttpUrl.ToString().TrimEnd('/'));

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_home, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task LaunchAsync(string frontend, string grpc, string http)
    {
        var path = ExecutablePath;
        // NuGet extracts package files with the mode the archive gives; make sure the owner may run it.
        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(path) is var mode && !mode.HasFlag(UnixFileMode.UserExecute))
        {
            File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute);
        }

        // Through a shell that also watches its stdin (a pipe from this test process): should this process die without
        // disposing, the pipe closes and the shell kills the dashboard, so none outlives the test run.
        var environment = new Dictionary<string, string?>
        {
            ["HOME"] = _home,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = frontend,
            ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = grpc,
            ["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = http,
            ["Dashboard__Frontend__AuthMode"] = "Unsecured",
            ["Dashboard__Otlp__AuthMode"] = "Unsecured",
            ["Dashboard__Api__Enabled"] = "true",
            ["Dashboard__Api__AuthMode"] = "ApiKey",
            ["Dashboard__Api__PrimaryApiKey"] = ApiKey,
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Aspire"] = "Information", // "Now listening on" and the OTLP addresses (a shell drops variables with dots in their names)
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
        };
        var frontendBound = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var grpcBound = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var httpBound = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string line)
        {
            _output.Enqueue(line);
            while (_output.Count > 500 && _output.TryDequeue(out _))
            {
            }

            if (FrontendLine().Match(line) is { Success: true } f)
            {
                frontendBound.TrySetResult(f.Groups[1].Value);
            }
            else if (GrpcLine().Match(line) is { Success: true } g)
            {
                grpcBound.TrySetResult(g.Groups[1].Value);
            }
            else if (HttpLine().Match(line) is { Success: true } h)
            {
                httpBound.TrySetResult(h.Groups[1].Value);
            }
        }

        var options = new ChildProcessOptions { WorkingDirectory = _home, Environment = environment, OnOutputLine = OnLine, OnErrorLine = OnLine };
        var process = ChildProcess.Start("/bin/sh", ["-c", Watchdog, "sh", path], options);
        _process = process;

        using var timeout = new CancellationTokenSource(StartTimeout);
        var exited = process.WaitForExitAsync(timeout.Token);
        var bound = Task.WhenAll(frontendBound.Task, grpcBound.Task, httpBound.Task);
        if (await Task.WhenAny(bound, exited, Task.Delay(Timeout.Infinite, timeout.Token)) != bound)
        {
            throw new InvalidOperationException(
                $"The Aspire dashboard did not report its three addresses within {StartTimeout.TotalSeconds:0} s (exited: {process.HasExited}). Output:\n{Output}");
        }

        FrontendUrl = new Uri(frontendBound.Task.Result);
        OtlpGrpcUrl = new Uri(grpcBound.Task.Result);
        OtlpHttpUrl = new Uri(httpBound.Task.Result);

        // Listening is not serving yet: wait until the telemetry API answers with the key.
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(FrontendUrl, "/api/telemetry/resources"));
            request.Headers.Add("x-api-key", ApiKey);
            try
            {
                using var response = await client.SendAsync(request, timeout.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!timeout.IsCancellationRequested)
            {
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (process.HasExited)
            {
                break;
            }

            try
            {
                await Task.Delay(100, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        throw new InvalidOperationException($"The Aspire dashboard's telemetry API did not answer at {FrontendUrl} (exited: {process.HasExited}). Output:\n{Output}");
    }

    private const string Watchdog = """
        exec 3<&0
        "$1" </dev/null 3<&- & child=$!
        (cat <&3 >/dev/null 2>&1; kill -9 "$child" 2>/dev/null) &
        exec 3<&-
        wait "$child"
        """;

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex FrontendLine();

    [GeneratedRegex(@"OTLP/gRPC listening on: (http://\S+)")]
    private static partial Regex GrpcLine();

    [GeneratedRegex(@"OTLP/HTTP listening on: (http://\S+)")]
    private static partial Regex HttpLine();
}
