namespace Testbed.Dashboard.Ingest;

/// <summary>The three OTLP signals, with their gRPC service and OTLP/HTTP path.</summary>
public enum OtlpSignal
{
    /// <summary>opentelemetry.proto.collector.trace.v1.TraceService, /v1/traces.</summary>
    Traces,

    /// <summary>opentelemetry.proto.collector.logs.v1.LogsService, /v1/logs.</summary>
    Logs,

    /// <summary>opentelemetry.proto.collector.metrics.v1.MetricsService, /v1/metrics.</summary>
    Metrics,
}

/// <summary>Names of each signal on the wire.</summary>
public static class OtlpSignals
{
    /// <summary>The fully qualified gRPC service name (method: Export).</summary>
    public static string GrpcService(this OtlpSignal signal) => signal switch
    {
        OtlpSignal.Traces => "opentelemetry.proto.collector.trace.v1.TraceService",
        OtlpSignal.Logs => "opentelemetry.proto.collector.logs.v1.LogsService",
        _ => "opentelemetry.proto.collector.metrics.v1.MetricsService",
    };

    /// <summary>The OTLP/HTTP path.</summary>
    public static string HttpPath(this OtlpSignal signal) => signal switch
    {
        OtlpSignal.Traces => "/v1/traces",
        OtlpSignal.Logs => "/v1/logs",
        _ => "/v1/metrics",
    };
}

/// <summary>An OTLP request body that cannot be read: the message says what is wrong with it.</summary>
public sealed class OtlpPayloadException(string message, Exception? inner = null) : Exception(message, inner);
