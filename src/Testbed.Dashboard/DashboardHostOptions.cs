namespace Testbed.Dashboard;

/// <summary>Where the dashboard listens, what it talks to and how much telemetry it keeps.</summary>
public sealed class DashboardHostOptions
{
    /// <summary>Web UI and query API, e.g. http://127.0.0.1:18888 (port 0 picks a free one).</summary>
    public Uri UiUrl { get; set; } = new("http://127.0.0.1:18888");

    /// <summary>OTLP/gRPC receiver (HTTP/2 without TLS), e.g. http://127.0.0.1:18889.</summary>
    public Uri OtlpGrpcUrl { get; set; } = new("http://127.0.0.1:18889");

    /// <summary>OTLP/HTTP receiver (POST /v1/traces, /v1/logs, /v1/metrics), e.g. http://127.0.0.1:18890.</summary>
    public Uri OtlpHttpUrl { get; set; } = new("http://127.0.0.1:18890");

    /// <summary>The AppHost's control API (resources, commands, console); null: the Resources view says it is not connected.</summary>
    public Uri? ControlApiUrl { get; set; }

    /// <summary>Another OTLP endpoint that receives a copy of everything (<c>--otlp-forward URL</c>); null: no forwarding.</summary>
    public Uri? ForwardUrl { get; set; }

    /// <summary>Protocol of <see cref="ForwardUrl"/>: <c>grpc</c> or <c>http/protobuf</c>.</summary>
    public string ForwardProtocol { get; set; } = "grpc";

    /// <summary>Where the dashboard logs (forwarding failures); null: nowhere.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>How much telemetry the in-memory stores keep.</summary>
    public TelemetryLimits Limits { get; set; } = new();

    /// <summary>Checks the settings, naming the one that is wrong.</summary>
    public void Validate()
    {
        foreach (var (name, url) in new[] { ("UiUrl", UiUrl), ("OtlpGrpcUrl", OtlpGrpcUrl), ("OtlpHttpUrl", OtlpHttpUrl) })
        {
            Check(url is not null && url.IsAbsoluteUri && url.Scheme == Uri.UriSchemeHttp,
                $"Dashboard {name} must be an absolute http:// URL, not '{url}'.");
        }

        if (ControlApiUrl is not null)
        {
            Check(ControlApiUrl.IsAbsoluteUri && (ControlApiUrl.Scheme == Uri.UriSchemeHttp || ControlApiUrl.Scheme == Uri.UriSchemeHttps),
                $"Dashboard ControlApiUrl must be an absolute http(s) URL, not '{ControlApiUrl}'.");
        }

        if (ForwardUrl is not null)
        {
            Check(ForwardUrl.IsAbsoluteUri && (ForwardUrl.Scheme == Uri.UriSchemeHttp || ForwardUrl.Scheme == Uri.UriSchemeHttps),
                $"--otlp-forward must be an absolute http(s) URL, not '{ForwardUrl}'.");
        }

        var fixedPorts = new[] { UiUrl!.Port, OtlpGrpcUrl!.Port, OtlpHttpUrl!.Port }.Where(p => p != 0).ToArray();
        Check(fixedPorts.Distinct().Count() == fixedPorts.Length,
            $"Dashboard UI, OTLP/gRPC and OTLP/HTTP need three different ports (or 0), not {UiUrl.Port}, {OtlpGrpcUrl.Port}, {OtlpHttpUrl.Port}.");
        Check(ForwardProtocol is "grpc" or "http/protobuf", $"Dashboard ForwardProtocol must be grpc or http/protobuf, not '{ForwardProtocol}'.");
        Limits.Validate();
    }

    internal static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}

/// <summary>Bounds of the in-memory telemetry stores; the oldest data is evicted first when one is reached.</summary>
public sealed class TelemetryLimits
{
    /// <summary>Traces kept.</summary>
    public int MaxTraces { get; set; } = 10_000;

    /// <summary>Spans kept over all traces.</summary>
    public int MaxSpans { get; set; } = 500_000;

    /// <summary>Spans kept in one trace; later spans of a full trace are dropped and counted.</summary>
    public int MaxSpansPerTrace { get; set; } = 5_000;

    /// <summary>Structured log records kept.</summary>
    public int MaxLogs { get; set; } = 50_000;

    /// <summary>Metric time series kept (resource, metric, attributes).</summary>
    public int MaxMetricSeries { get; set; } = 5_000;

    /// <summary>Points kept per metric time series.</summary>
    public int MaxPointsPerSeries { get; set; } = 1_000;

    /// <summary>Attributes kept per span, event, link, log record or data point.</summary>
    public int MaxAttributes { get; set; } = 128;

    /// <summary>Characters kept of one attribute value or log body.</summary>
    public int MaxValueLength { get; set; } = 4_096;

    /// <summary>Largest OTLP request accepted (bytes, after decompression).</summary>
    public int MaxRequestBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Checks every limit is positive and sane.</summary>
    public void Validate()
    {
        foreach (var (name, value, max) in new[]
        {
            (nameof(MaxTraces), MaxTraces, 10_000_000),
            (nameof(MaxSpans), MaxSpans, 100_000_000),
            (nameof(MaxSpansPerTrace), MaxSpansPerTrace, 10_000_000),
            (nameof(MaxLogs), MaxLogs, 100_000_000),
            (nameof(MaxMetricSeries), MaxMetricSeries, 1_000_000),
            (nameof(MaxPointsPerSeries), MaxPointsPerSeries, 10_000_000),
            (nameof(MaxAttributes), MaxAttributes, 100_000),
            (nameof(MaxValueLength), MaxValueLength, 10_000_000),
            (nameof(MaxRequestBytes), MaxRequestBytes, 1024 * 1024 * 1024),
        })
        {
            DashboardHostOptions.Check(value >= 1 && value <= max, $"Dashboard limit {name} must be between 1 and {max}, not {value}.");
        }
    }
}
