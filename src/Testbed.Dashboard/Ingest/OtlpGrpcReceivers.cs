using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Testbed.Dashboard.Protocol.Collector.Logs;
using Testbed.Dashboard.Protocol.Collector.Metrics;
using Testbed.Dashboard.Protocol.Collector.Trace;

namespace Testbed.Dashboard.Ingest;

/// <summary>
/// OTLP/gRPC Export methods bound over raw bytes: the body is parsed here, so a malformed message is
/// answered with InvalidArgument and a reason instead of failing inside the framework.
/// </summary>
internal static class OtlpGrpcBinding
{
    private static readonly Marshaller<byte[]> Raw = new((bytes, context) => context.Complete(bytes), context => context.PayloadAsNewBuffer());

    public static Method<byte[], byte[]> ExportMethod(OtlpSignal signal) =>
        new(MethodType.Unary, signal.GrpcService(), "Export", Raw, Raw);

    public static T Parse<T>(byte[] request, MessageParser<T> parser)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(request);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"The request is not a valid OTLP {typeof(T).Name}: {e.Message}"));
        }
    }
}

/// <summary>opentelemetry.proto.collector.trace.v1.TraceService/Export.</summary>
[BindServiceMethod(typeof(OtlpTraceGrpcReceiver), nameof(BindService))]
// Not sealed, and Export is virtual: Grpc.AspNetCore binds only virtual methods declared on the bound type.
internal class OtlpTraceGrpcReceiver(TelemetryIngest ingest)
{
    public static void BindService(ServiceBinderBase binder, OtlpTraceGrpcReceiver? service) =>
        binder.AddMethod(OtlpGrpcBinding.ExportMethod(OtlpSignal.Traces), service is null ? null : service.Export);

    public virtual Task<byte[]> Export(byte[] request, ServerCallContext context)
    {
        _ = context;
        var result = ingest.Ingest(OtlpGrpcBinding.Parse(request, ExportTraceServiceRequest.Parser), request);
        var response = new ExportTraceServiceResponse();
        if (result.Rejected > 0)
        {
            response.PartialSuccess = new ExportTracePartialSuccess { RejectedSpans = result.Rejected, ErrorMessage = result.Error ?? "" };
        }

        return Task.FromResult(response.ToByteArray());
    }
}

/// <summary>opentelemetry.proto.collector.logs.v1.LogsService/Export.</summary>
[BindServiceMethod(typeof(OtlpLogsGrpcReceiver), nameof(BindService))]
// Not sealed, and Export is virtual: Grpc.AspNetCore binds only virtual methods declared on the bound type.
internal class OtlpLogsGrpcReceiver(TelemetryIngest ingest)
{
    public static void BindService(ServiceBinderBase binder, OtlpLogsGrpcReceiver? service) =>
        binder.AddMethod(OtlpGrpcBinding.ExportMethod(OtlpSignal.Logs), service is null ? null : service.Export);

    public virtual Task<byte[]> Export(byte[] request, ServerCallContext context)
    {
        _ = context;
        var result = ingest.Ingest(OtlpGrpcBinding.Parse(request, ExportLogsServiceRequest.Parser), request);
        var response = new ExportLogsServiceResponse();
        if (result.Rejected > 0)
        {
            response.PartialSuccess = new ExportLogsPartialSuccess { RejectedLogRecords = result.Rejected, ErrorMessage = result.Error ?? "" };
        }

        return Task.FromResult(response.ToByteArray());
    }
}

/// <summary>opentelemetry.proto.collector.metrics.v1.MetricsService/Export.</summary>
[BindServiceMethod(typeof(OtlpMetricsGrpcReceiver), nameof(BindService))]
// Not sealed, and Export is virtual: Grpc.AspNetCore binds only virtual methods declared on the bound type.
internal class OtlpMetricsGrpcReceiver(TelemetryIngest ingest)
{
    public static void BindService(ServiceBinderBase binder, OtlpMetricsGrpcReceiver? service) =>
        binder.AddMethod(OtlpGrpcBinding.ExportMethod(OtlpSignal.Metrics), service is null ? null : service.Export);

    public virtual Task<byte[]> Export(byte[] request, ServerCallContext context)
    {
        _ = context;
        ingest.Ingest(OtlpGrpcBinding.Parse(request, ExportMetricsServiceRequest.Parser), request);
        return Task.FromResult(new ExportMetricsServiceResponse().ToByteArray());
    }
}
