using System.Reflection;

namespace Testbed.AppHost.AppModel;

/// <summary>Settings of one AppHost run: bound from appsettings.json section <c>AppHost</c>, then the command line.</summary>
public sealed class AppHostOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "AppHost";

    /// <summary>Number of peer replicas (<c>peer-1</c>..<c>peer-N</c>) in the default app model.</summary>
    public int Peers { get; set; } = 4;

    /// <summary>Proof-of-work difficulty of the peers (Testbed__DifficultyBits, 1..64); null: the peer's default.</summary>
    public int? DifficultyBits { get; set; }

    /// <summary>Build the services' projects (one msbuild run) before starting them; false starts the dlls already built.</summary>
    public bool Build { get; set; } = true;

    /// <summary>Relative project paths in the app model start here; default: the AppHost project directory, as in Aspire.</summary>
    public string? ProjectDirectory { get; set; }

    /// <summary>Build configuration of the services (Debug or Release); default: the AppHost's own.</summary>
    public string? Configuration { get; set; }

    /// <summary>Port of the control API on 127.0.0.1; 0 picks a free one.</summary>
    public int ControlApiPort { get; set; } = 18887;

    /// <summary>OTLP endpoint handed to children as OTEL_EXPORTER_OTLP_ENDPOINT; empty: children export nothing.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>OTEL_EXPORTER_OTLP_PROTOCOL handed along with <see cref="OtlpEndpoint"/> (grpc or http/protobuf).</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>Ports reserved for the dashboard (issue 10): UI, OTLP/gRPC and OTLP/HTTP.</summary>
    public DashboardOptions Dashboard { get; set; } = new();

    /// <summary>How long a resource may take from launch to its first healthy probe.</summary>
    public double StartupTimeoutSeconds { get; set; } = 60;

    /// <summary>How long a graceful stop (SIGTERM) may take before the process tree is killed.</summary>
    public double StopTimeoutSeconds { get; set; } = 5;

    /// <summary>Interval of health probes once a resource is running.</summary>
    public double HealthCheckIntervalSeconds { get; set; } = 1;

    /// <summary>Consecutive failed probes after which a running resource turns RuntimeUnhealthy.</summary>
    public int UnhealthyThreshold { get; set; } = 2;

    /// <summary>Console lines kept per resource (a ring buffer: the oldest lines drop first).</summary>
    public int ConsoleBufferLines { get; set; } = 2000;

    /// <summary>ASPNETCORE_ENVIRONMENT and DOTNET_ENVIRONMENT of every child.</summary>
    public string EnvironmentName { get; set; } = "Development";

    /// <summary>Echo every child's console lines to the AppHost's own console, prefixed with the resource name.</summary>
    public bool EchoConsole { get; set; }

    /// <summary>The configuration the AppHost itself was built with, used when <see cref="Configuration"/> is not set.</summary>
    public static string BuiltConfiguration => ReadMetadata("BuildConfiguration") ?? "Debug";

    /// <summary>Resolves <see cref="ProjectDirectory"/>: the setting, else the AppHost project directory recorded at build time.</summary>
    public string ResolveProjectDirectory()
    {
        if (!string.IsNullOrWhiteSpace(ProjectDirectory))
        {
            return Path.GetFullPath(ProjectDirectory);
        }

        var recorded = ReadMetadata("AppHostProjectDirectory");
        if (recorded is not null && Directory.Exists(recorded))
        {
            return recorded;
        }

        // The checkout moved since the build: find the solution above the running assembly.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Testbed.sln")))
            {
                return Path.Combine(dir.FullName, "AppHost");
            }
        }

        throw new InvalidOperationException(
            "Cannot find the AppHost project directory (no Testbed.sln above " + AppContext.BaseDirectory + "); set AppHost:ProjectDirectory.");
    }

    /// <summary>Checks the values a user can get wrong, naming the setting.</summary>
    public void Validate()
    {
        Check(Peers is >= 0 and <= 64, $"AppHost:Peers must be between 0 and 64, not {Peers}.");
        Check(DifficultyBits is null or (>= 1 and <= 64), $"AppHost:DifficultyBits must be between 1 and 64, not {DifficultyBits}.");
        Check(ControlApiPort is >= 0 and <= 65535, $"AppHost:ControlApiPort must be a port (0..65535), not {ControlApiPort}.");
        Check(StartupTimeoutSeconds is > 0 and <= 3600, $"AppHost:StartupTimeoutSeconds must be in (0, 3600], not {StartupTimeoutSeconds}.");
        Check(StopTimeoutSeconds is > 0 and <= 600, $"AppHost:StopTimeoutSeconds must be in (0, 600], not {StopTimeoutSeconds}.");
        Check(HealthCheckIntervalSeconds is >= 0.05 and <= 60, $"AppHost:HealthCheckIntervalSeconds must be in [0.05, 60], not {HealthCheckIntervalSeconds}.");
        Check(UnhealthyThreshold is >= 1 and <= 100, $"AppHost:UnhealthyThreshold must be in [1, 100], not {UnhealthyThreshold}.");
        Check(ConsoleBufferLines is >= 10 and <= 1_000_000, $"AppHost:ConsoleBufferLines must be in [10, 1000000], not {ConsoleBufferLines}.");
        Check(OtlpProtocol is "grpc" or "http/protobuf", $"AppHost:OtlpProtocol must be grpc or http/protobuf, not '{OtlpProtocol}'.");
        if (!string.IsNullOrWhiteSpace(OtlpEndpoint))
        {
            Check(Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var otlp) && (otlp.Scheme == Uri.UriSchemeHttp || otlp.Scheme == Uri.UriSchemeHttps),
                $"AppHost:OtlpEndpoint must be an absolute http(s) URL, not '{OtlpEndpoint}'.");
        }

        Dashboard.Validate();
    }

    internal static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }

    private static string? ReadMetadata(string key) =>
        typeof(AppHostOptions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == key)?.Value;
}

/// <summary>Ports of the standalone Aspire dashboard, reserved here for the testbed's dashboard (issue 10).</summary>
public sealed class DashboardOptions
{
    /// <summary>Dashboard UI port (http://127.0.0.1:18888).</summary>
    public int UiPort { get; set; } = 18888;

    /// <summary>OTLP/gRPC receiver port.</summary>
    public int OtlpGrpcPort { get; set; } = 18889;

    /// <summary>OTLP/HTTP receiver port.</summary>
    public int OtlpHttpPort { get; set; } = 18890;

    /// <summary>Another OTLP endpoint (the standalone Aspire dashboard, Jaeger) that receives a copy of everything; empty: none.</summary>
    public string? ForwardUrl { get; set; }

    /// <summary>Protocol of <see cref="ForwardUrl"/>: grpc or http/protobuf.</summary>
    public string ForwardProtocol { get; set; } = "grpc";

    /// <summary>Checks the ports are ports.</summary>
    public void Validate()
    {
        foreach (var (name, port) in new[] { ("UiPort", UiPort), ("OtlpGrpcPort", OtlpGrpcPort), ("OtlpHttpPort", OtlpHttpPort) })
        {
            AppHostOptions.Check(port is >= 0 and <= 65535, $"AppHost:Dashboard:{name} must be a port (0..65535), not {port}.");
        }

        AppHostOptions.Check(string.IsNullOrWhiteSpace(ForwardUrl) || Uri.TryCreate(ForwardUrl, UriKind.Absolute, out _),
            $"AppHost:Dashboard:ForwardUrl (--otlp-forward) must be an absolute URL, not '{ForwardUrl}'.");
        AppHostOptions.Check(ForwardProtocol is "grpc" or "http/protobuf",
            $"AppHost:Dashboard:ForwardProtocol must be grpc or http/protobuf, not '{ForwardProtocol}'.");
    }
}
