using System.IO.Compression;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Testbed.Dashboard.Protocol.Collector.Logs;
using Testbed.Dashboard.Protocol.Collector.Metrics;
using Testbed.Dashboard.Protocol.Collector.Trace;

namespace Testbed.Dashboard.Ingest;

/// <summary>
/// OTLP/HTTP: POST /v1/traces, /v1/logs and /v1/metrics with an application/x-protobuf or
/// application/json body, optionally gzip-encoded. Bad bodies get 400 with a google.rpc.Status saying why.
/// </summary>
internal static class OtlpHttpReceiver
{
    private const string Protobuf = "application/x-protobuf";
    private const string Json = "application/json";

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapPost(OtlpSignal.Traces.HttpPath(), context => HandleAsync(context, ExportTraceServiceRequest.Parser,
            (ingest, request, raw) =>
            {
                var result = ingest.Ingest(request, raw);
                return result.Rejected == 0 ? new ExportTraceServiceResponse() : new ExportTraceServiceResponse
                {
                    PartialSuccess = new ExportTracePartialSuccess { RejectedSpans = result.Rejected, ErrorMessage = result.Error ?? "" },
                };
            }));
        routes.MapPost(OtlpSignal.Logs.HttpPath(), context => HandleAsync(context, ExportLogsServiceRequest.Parser,
            (ingest, request, raw) =>
            {
                var result = ingest.Ingest(request, raw);
                return result.Rejected == 0 ? new ExportLogsServiceResponse() : new ExportLogsServiceResponse
                {
                    PartialSuccess = new ExportLogsPartialSuccess { RejectedLogRecords = result.Rejected, ErrorMessage = result.Error ?? "" },
                };
            }));
        routes.MapPost(OtlpSignal.Metrics.HttpPath(), context => HandleAsync(context, ExportMetricsServiceRequest.Parser,
            (ingest, request, raw) =>
            {
                ingest.Ingest(request, raw);
                return new ExportMetricsServiceResponse();
            }));
    }

    private static async Task HandleAsync<TRequest>(
        HttpContext context,
        MessageParser<TRequest> parser,
        Func<TelemetryIngest, TRequest, ReadOnlyMemory<byte>?, IMessage> ingest)
        where TRequest : IMessage<TRequest>
    {
        var mediaType = (context.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        var json = mediaType == Json;
        if (!json && mediaType != Protobuf)
        {
            await WriteErrorAsync(context, false, StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type must be {Protobuf} or {Json}, not '{context.Request.ContentType}'.");
            return;
        }

        var telemetry = context.RequestServices.GetRequiredService<TelemetryIngest>();
        byte[] body;
        try
        {
            body = await ReadBodyAsync(context, telemetry.Limits.MaxRequestBytes);
        }
        catch (OtlpPayloadException e)
        {
            await WriteErrorAsync(context, json, e.Message.StartsWith("The body is larger", StringComparison.Ordinal)
                ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, e.Message);
            return;
        }

        TRequest request;
        try
        {
            request = json ? OtlpJson.Parse(body, parser) : parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException e)
        {
            await WriteErrorAsync(context, json, StatusCodes.Status400BadRequest, $"The body is not a valid OTLP {typeof(TRequest).Name}: {e.Message}");
            return;
        }
        catch (OtlpPayloadException e)
        {
            await WriteErrorAsync(context, json, StatusCodes.Status400BadRequest, e.Message);
            return;
        }

        var response = ingest(telemetry, request, json ? null : body);
        await WriteAsync(context, json, StatusCodes.Status200OK, response);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context, int maxBytes)
    {
        var encoding = context.Request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        Stream source = encoding switch
        {
            "" or "identity" => context.Request.Body,
            "gzip" => new GZipStream(context.Request.Body, CompressionMode.Decompress, leaveOpen: true),
            "deflate" => new ZLibStream(context.Request.Body, CompressionMode.Decompress, leaveOpen: true),
            _ => throw new OtlpPayloadException($"Content-Encoding '{encoding}' is not supported (use gzip or none)."),
        };

        await using (source.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            try
            {
                int read;
                while ((read = await source.ReadAsync(chunk, context.RequestAborted)) > 0)
                {
                    if (buffer.Length + read > maxBytes)
                    {
                        throw new OtlpPayloadException($"The body is larger than the limit of {maxBytes} bytes (after decompression).");
                    }

                    buffer.Write(chunk, 0, read);
                }
            }
            catch (InvalidDataException e)
            {
                throw new OtlpPayloadException($"The {encoding} body cannot be decompressed: {e.Message}", e);
            }

            return buffer.ToArray();
        }
    }

    private static Task WriteErrorAsync(HttpContext context, bool json, int status, string message) =>
        WriteAsync(context, json, status, new Protocol.Rpc.Status
        {
            Code = status == StatusCodes.Status413PayloadTooLarge ? 8 : 3, // RESOURCE_EXHAUSTED, INVALID_ARGUMENT
            Message = message,
        });

    private static async Task WriteAsync(HttpContext context, bool json, int status, IMessage message)
    {
        context.Response.StatusCode = status;
        if (json)
        {
            context.Response.ContentType = Json;
            await context.Response.WriteAsync(OtlpJson.Format(message).ToJsonString());
        }
        else
        {
            context.Response.ContentType = Protobuf;
            await context.Response.Body.WriteAsync(message.ToByteArray());
        }
    }
}
