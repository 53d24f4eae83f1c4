using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Testbed.Tracker.Announces;
using Testbed.Tracker.Swarms;
using Testbed.Torrent.Metainfo;

namespace Testbed.Tracker.Http;

/// <summary>
/// `GET /announce` and `GET /scrape`. Every answer is HTTP 200 with a bencoded body: a bad request
/// gets a `failure reason` (clients show it; many treat any non-200 status as an opaque error), and
/// an unexpected exception is caught here so no request ever ends in a 500.
/// </summary>
public static partial class HttpTrackerEndpoints
{
    /// <summary>Path of the announce endpoint.</summary>
    public const string AnnouncePath = "/announce";

    /// <summary>Path of the scrape endpoint (BEP 48: announce with "announce" replaced by "scrape").</summary>
    public const string ScrapePath = "/scrape";

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? buffer;

    /// <summary>Maps the tracker's HTTP endpoints.</summary>
    public static IEndpointRouteBuilder MapTrackerHttp(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var service = endpoints.ServiceProvider.GetRequiredService<AnnounceService>();
        var logger = endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HttpTrackerEndpoints));
        endpoints.MapGet(AnnouncePath, context => Guard(context, service, logger, Announce));
        endpoints.MapGet(ScrapePath, context => Guard(context, service, logger, Scrape));
        return endpoints;
    }

    private static Task Guard(HttpContext context, AnnounceService service, ILogger logger, Func<HttpContext, AnnounceService, Task> handle)
    {
        try
        {
            return handle(context, service);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogFailed(logger, context.Request.Path, e);
            return context.Response.HasStarted
                ? Task.CompletedTask
                : Send(context, writer => AnnounceResponses.WriteFailure(writer, "internal tracker error"));
        }
    }

    private static Task Announce(HttpContext context, AnnounceService service)
    {
        var remote = context.Connection.RemoteIpAddress;
        PeerAddress? client = remote is null ? null : PeerAddress.From(remote);
        if (client is null)
        {
            return Refuse(context, service, "announce", client, "the connection has no client address");
        }

        if (!AnnounceQueryParser.TryParse(context.Request.QueryString.Value, out var request, out var error))
        {
            return Refuse(context, service, "announce", client, error!);
        }

        var peers = ArrayPool<PeerEndpoint>.Shared.Rent(Math.Max(1, service.Policy.MaxNumWant));
        try
        {
            // The URL labels the span only; skip building it when nobody listens.
            var url = Telemetry.TrackerTelemetry.Source.HasListeners() ? $"http://{context.Request.Host}{AnnouncePath}" : null;
            var result = service.Announce(request, client.Value, Announces.TrackerTransport.Http, peers, sameFamilyOnly: false, url);
            if (!result.Accepted)
            {
                // Already logged and counted by the service.
                return Send(context, writer => AnnounceResponses.WriteFailure(writer, result.Refusal.Describe()));
            }

            var writer = Buffer();
            AnnounceResponses.WriteAnnounce(writer, request, result.Counts, service.Policy, peers.AsSpan(0, result.Selected));
            return Flush(context, writer);
        }
        finally
        {
            ArrayPool<PeerEndpoint>.Shared.Return(peers);
        }
    }

    private static Task Scrape(HttpContext context, AnnounceService service)
    {
        var remote = context.Connection.RemoteIpAddress;
        PeerAddress? client = remote is null ? null : PeerAddress.From(remote);
        var infoHashes = new List<InfoHash>();
        if (!ScrapeQueryParser.TryParse(context.Request.QueryString.Value, service.Policy.MaxScrapeHashes, infoHashes, out var error))
        {
            return Refuse(context, service, "scrape", client, error!);
        }

        var files = infoHashes.Select(hash => (hash, service.Scrape(hash, Announces.TrackerTransport.Http))).ToList();
        return Send(context, writer => AnnounceResponses.WriteScrape(writer, files));
    }

    private static Task Refuse(HttpContext context, AnnounceService service, string kind, PeerAddress? client, string reason)
    {
        service.Reject(Announces.TrackerTransport.Http, kind, client, reason);
        return Send(context, writer => AnnounceResponses.WriteFailure(writer, reason));
    }

    private static Task Send(HttpContext context, Action<IBufferWriter<byte>> write)
    {
        var writer = Buffer();
        write(writer);
        return Flush(context, writer);
    }

    private static ArrayBufferWriter<byte> Buffer()
    {
        var writer = buffer ??= new ArrayBufferWriter<byte>(1024);
        writer.ResetWrittenCount();
        return writer;
    }

    private static Task Flush(HttpContext context, ArrayBufferWriter<byte> writer)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain";
        response.ContentLength = writer.WrittenCount;
        // Copied into the response pipe before anything awaits, so the per-thread buffer is free again on return.
        response.BodyWriter.Write(writer.WrittenSpan);
        var flush = response.BodyWriter.FlushAsync();
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Error, Message = "Tracker request {Path} failed")]
    private static partial void LogFailed(ILogger logger, PathString path, Exception exception);
}
