using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;

namespace Testbed.Peer.Bench;

/// <summary>A tracker or peer process a benchmark starts (`dotnet X.dll`) on a free loopback port; killed with its tree on dispose.</summary>
public sealed class BenchProcess : IAsyncDisposable
{
    private readonly Process process;

    private BenchProcess(string name, Process process, Uri baseUrl)
    {
        Name = name;
        this.process = process;
        Http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(120) };
        ControlCallers.AddSecretHeader(Http, ControlSecret);
    }

    /// <summary>The control secret of this benchmark run, handed to every process it starts (their mining and fault hooks ask for it).</summary>
    public static string ControlSecret { get; } = ControlCallers.NewSecret();

    /// <summary>The process's name in the benchmark.</summary>
    public string Name { get; }

    /// <summary>A client for its HTTP API.</summary>
    public HttpClient Http { get; }

    /// <summary>Its base URL.</summary>
    public Uri BaseUrl => Http.BaseAddress!;

    /// <summary>Starts a dll with the given environment (its console output is discarded).</summary>
    public static BenchProcess Start(string name, string dll, IReadOnlyDictionary<string, string> environment)
    {
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is not built (dotnet build it first)", dll);
        }

        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment[ControlCallers.SecretEnvironmentVariable] = ControlSecret;
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new BenchProcess(name, process, new Uri($"http://127.0.0.1:{port}/"));
    }

    /// <summary>Waits until /health answers 200.</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {process.ExitCode}");
            }

            try
            {
                using var response = await Http.GetAsync("health", cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"{Name} was not healthy within {timeout.TotalSeconds} s");
    }

    /// <summary>GET a JSON document.</summary>
    public async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken) =>
        await Http.GetFromJsonAsync<JsonElement>(path, cancellationToken).ConfigureAwait(false);

    /// <summary>The dll of a sibling project for this build's configuration (the bench runs from src/Testbed.Peer/bin/CONFIG/net10.0).</summary>
    public static string SiblingDll(string project)
    {
        var configuration = typeof(BenchProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "src", project)))
        {
            dir = dir.Parent;
        }

        return dir is null
            ? throw new DirectoryNotFoundException($"cannot find src/{project} above {AppContext.BaseDirectory}")
            : Path.Combine(dir.FullName, "src", project, "bin", configuration, "net10.0", project + ".dll");
    }

    /// <summary>The peer's dll: this process's own when the bench runs inside Testbed.Peer, else the built project's (AppHost).</summary>
    public static string PeerDll =>
        File.Exists(Path.Combine(AppContext.BaseDirectory, "Testbed.Peer.runtimeconfig.json"))
            ? Path.Combine(AppContext.BaseDirectory, "Testbed.Peer.dll")
            : SiblingDll("Testbed.Peer");

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        Http.Dispose();
        process.Dispose();
        return ValueTask.CompletedTask;
    }
}
