using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace Testbed.Peer.Tests.Cluster;

/// <summary>A service started from its built dll (`dotnet X.dll`) with its own environment; killed with its tree on dispose.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private const int TailLines = 60;
    private readonly Process process;
    private readonly Queue<string> tail = new();
    private readonly Lock gate = new();

    private ServiceProcess(string name, Process process, Uri baseUrl)
    {
        Name = name;
        this.process = process;
        BaseUrl = baseUrl;
        Http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Add(ControlSecretHeader, ControlSecret);
    }

    /// <summary>The control secret of this test run, handed to every service started (as the AppHost does per run).</summary>
    public static readonly string ControlSecret = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>The header a control caller sends the secret in.</summary>
    public const string ControlSecretHeader = "X-Testbed-Secret";

    /// <summary>The environment variable that hands a service the secret.</summary>
    public const string ControlSecretVariable = "Testbed__ControlSecret";

    /// <summary>The service's name in this test.</summary>
    public string Name { get; }

    /// <summary>Its HTTP base URL.</summary>
    public Uri BaseUrl { get; }

    /// <summary>A client for its HTTP API.</summary>
    public HttpClient Http { get; }

    /// <summary>The process id.</summary>
    public int ProcessId => process.Id;

    /// <summary>The exit code, once ended.</summary>
    public int ExitCode => process.ExitCode;

    /// <summary>True once the process ended.</summary>
    public bool HasExited => process.HasExited;

    /// <summary>The last lines it printed.</summary>
    public string Tail
    {
        get
        {
            lock (gate)
            {
                return string.Join('\n', tail);
            }
        }
    }

    /// <summary>Starts `dotnet DLL` on a free loopback HTTP port.</summary>
    public static ServiceProcess Start(string name, string dll, IReadOnlyDictionary<string, string> environment)
    {
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is not built", dll);
        }

        var port = FreePort();
        var baseUrl = new Uri($"http://127.0.0.1:{port}/");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["ASPNETCORE_URLS"] = baseUrl.ToString().TrimEnd('/');
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Testbed"] = "Information";
        start.Environment[ControlSecretVariable] = ControlSecret;
        foreach (var name2 in new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "services__tracker__http__0" })
        {
            start.Environment.Remove(name2);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(name, process, baseUrl);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Waits until GET /health answers Healthy.</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {process.ExitCode}:\n{Tail}");
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
    public void KillHard()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    /// <summary>SIGSTOP: the process freezes with its sockets open (peers see silent connections, not closed ones).</summary>
    public void Pause() => Signal("-STOP");

    /// <summary>SIGCONT: a paused process goes on, reading what arrived meanwhile.</summary>
    public void Resume() => Signal("-CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>SIGTERM, then waits for the process to stop by itself (a clean stop); true when it exited in time.</summary>
    public bool StopGracefully(TimeSpan timeout)
    {
        if (process.HasExited)
        {
            return true;
        }

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        return process.WaitForExit(timeout);
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

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (gate)
        {
            tail.Enqueue(line);
            while (tail.Count > TailLines)
            {
                tail.Dequeue();
            }
        }
    }

    /// <summary>Kills the process tree and waits for it.</summary>
    public ValueTask DisposeAsync()
    {
        try
        {
            KillHard();
        }
        catch (InvalidOperationException)
        {
        }

        Http.Dispose();
        process.Dispose();
        return ValueTask.CompletedTask;
    }
}
