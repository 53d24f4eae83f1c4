using System.Buffers;
using Testbed.Tracker.Swarms;

namespace Testbed.Tracker.Http;

/// <summary>
/// `GET /announce` and `GET /scrape` on Kestrel. Every answer is HTTP 200 with a bencoded body: a bad request
/// gets a `failure reason` (clients show it; many treat any non-200 status as an opaque error), and
/// an unexpected exception is caught so no request ever ends in a 500 (<see cref="HttpAnnounceHandler"/>).
/// Complete one-packet requests usually never get here: <see cref="AnnounceSocketListener"/> answers them from the socket.
/// </summary>
public static class HttpTrackerEndpoints
{
    /// <summary>Path of the announce endpoint.</summary>
    public const string AnnouncePath = "/announce";

    /// <summary>Path of the scrape endpoint (BEP 48: announce with "announce" replaced by "scrape").</summary>
    public const string ScrapePath = "/scrape";

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _buffer;

    /// <summary>Maps the tracker's HTTP endpoints.</summary>
    public static IEndpointRouteBuilder MapTrackerHttp(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var handler = endpoints.ServiceProvider.GetRequiredService<HttpAnnounceHandler>();
        endpoints.MapGet(AnnouncePath, context =>
        {
            // The URL labels the span only; skip building it when nobody listens.
            var url = Telemetry.TrackerTelemetry.Source.HasListeners() ? $"http://{context.Request.Host}{AnnouncePath}" : null;
            var writer = Buffer();
            handler.Announce(context.Request.QueryString.Value, ClientOf(context), url, default, writer);
            return Flush(context, writer);
        });
        endpoints.MapGet(ScrapePath, context =>
        {
            var writer = Buffer();
            handler.Scrape(context.Request.QueryString.Value, ClientOf(context), writer);
            return Flush(context, writer);
        });
        return endpoints;
    }

    private static PeerAddress? ClientOf(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } remote ? PeerAddress.From(remote) : null;

    private static ArrayBufferWriter<byte> Buffer()
    {
        var writer = _buffer ??= new ArrayBufferWriter<byte>(1024);
        writer.ResetWrittenCount();
        return writer;
    }

    private static Task Flush(HttpContext context, ArrayBufferWriter<byte> writer)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain";
        response.ContentLength = writer.WrittenCount;
        // Kestrel copies the bytes into the connection's pipe before it returns, so the per-thread buffer is free again.
        var flush = response.BodyWriter.WriteAsync(writer.WrittenMemory);
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }
}
