using System.Reflection;
using Microsoft.Extensions.Hosting;
using Testbed.Processes;

namespace Testbed.Peer.Tests.Cluster;

/// <summary>A service started from its built dll (`dotnet X.dll`) with its own environment; killed with its tree on dispose.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private const int TailLines = 60;
    private readonly ChildProcess _process;

    private ServiceProcess(string name, ChildProcess process, Uri baseUrl)
    {
        Name = name;
        _process = process;
        BaseUrl = baseUrl;
        Http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Add(ControlSecretHeader, ControlSecret);
    }

    /// <summary>The control secret of this test run, handed to every service started (as the AppHost does per run).</summary>
    public static readonly string ControlSecret = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>The header a control caller sends the secret in.</summary>
    public const string ControlSecretHeader = ControlCallers.SecretHeader;

    /// <summary>The environment variable that hands a service the secret.</summary>
    public static readonly string ControlSecretVariable = ControlSettings.Secret.EnvironmentVariable;

    /// <summary>The service's name in this test.</summary>
    public string Name { get; }

    /// <summary>Its HTTP base URL.</summary>
    public Uri BaseUrl { get; }

    /// <summary>A client for its HTTP API.</summary>
    public HttpClient Http { get; }

    /// <summary>The process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The exit code, once ended.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>True once the process ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines it printed.</summary>
    public string Tail => _process.Tail(TailLines);

    /// <summary>Starts `dotnet DLL` on a free loopback HTTP port.</summary>
    public static ServiceProcess Start(string name, string dll, IReadOnlyDictionary<string, string> environment)
    {
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is not built", dll);
        }

        var port = FreePort();
        var baseUrl = new Uri($"http://127.0.0.1:{port}/");
        var variables = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = baseUrl.ToString().TrimEnd('/'),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Testbed"] = "Information",
            [ControlSecretVariable] = ControlSecret,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
            ["services__tracker__http__0"] = null,
        };
        foreach (var (key, value) in environment)
        {
            variables[key] = value;
        }

        var options = new ChildProcessOptions { WorkingDirectory = Path.GetDirectoryName(dll)!, Environment = variables, KeptLines = TailLines };
        return new ServiceProcess(name, ChildProcess.Start("dotnet", [dll], options), baseUrl);
    }

    /// <summary>Waits until GET /health answers Healthy.</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode}:\n{Tail}");
            }

            try
            {
                using var response = await Http.GetAsync("health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{Name} was not healthy within {timeout.TotalSeconds} s:\n{Tail}");
    }

    /// <summary>SIGKILL: the process gets no chance to clean up.</summary>
    public void KillHard() => _process.Kill();

    /// <summary>SIGSTOP: the process freezes with its sockets open (peers see silent connections, not closed ones).</summary>
    public void Pause() => Signal("STOP");

    /// <summary>SIGCONT: a paused process goes on, reading what arrived meanwhile.</summary>
    public void Resume() => Signal("CONT");

    private void Signal(string signal) => Assert.True(_process.Signal(signal), $"kill -{signal} {_process.Id} failed");

    /// <summary>
    /// Waits at most <paramref name="timeout"/> for the process to end by itself, and for its output to be read to the end
    /// (polling <see cref="HasExited"/> is not enough: the last lines may still be on their way to <see cref="Tail"/>).
    /// </summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    /// <summary>SIGTERM, then waits for the process to stop by itself (a clean stop); true when it exited in time.</summary>
    public bool StopGracefully(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return true;
        }

        _process.Signal("TERM");
        return _process.WaitForExitAsync(timeout).GetAwaiter().GetResult();
    }

    /// <summary>The built dll of a project under src/ for this test run's configuration.</summary>
    public static string ProjectDll(string project)
    {
        var configuration = typeof(ServiceProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Testbed.sln")))
        {
            dir = dir.Parent;
        }

        if (dir is null)
        {
            throw new DirectoryNotFoundException("cannot find the repository root (Testbed.sln) above " + AppContext.BaseDirectory);
        }

        return Path.Combine(dir.FullName, "src", project, "bin", configuration, "net10.0", project + ".dll");
    }

    // Below the ephemeral range, so the peer's own port-0 listeners cannot take it before Kestrel binds it.
    private static int FreePort()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20_000, 32_000);
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (attempt < 100)
            {
            }
        }
    }

    /// <summary>Kills the process tree and waits for it.</summary>
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
    }
}
