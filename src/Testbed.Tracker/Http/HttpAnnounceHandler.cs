using System.Buffers;
using System.Diagnostics;
using Testbed.Torrent.Metainfo;
using Testbed.Tracker.Announces;
using Testbed.Tracker.Swarms;

namespace Testbed.Tracker.Http;

/// <summary>
/// The bencoded body of an HTTP announce or scrape from its raw query, shared by the Kestrel endpoints and the socket
/// fast path (<see cref="AnnounceSocketListener"/>): a bad request gets a `failure reason` naming the problem, and an
/// unexpected exception is caught here and answered the same way, never a 500.
/// </summary>
public sealed partial class HttpAnnounceHandler
{
    private readonly AnnounceService _service;
    private readonly ILogger _logger;

    /// <summary>Creates the handler over the shared announce service.</summary>
    public HttpAnnounceHandler(AnnounceService service, ILogger<HttpAnnounceHandler> logger)
    {
        _service = service;
        _logger = logger;
    }

    /// <summary>Writes the answer to `GET /announce?<paramref name="query"/>` from <paramref name="client"/>.</summary>
    /// <param name="query">The raw query, still percent-encoded, with or without its `?`.</param>
    /// <param name="client">The connection's address; null when the transport has none.</param>
    /// <param name="trackerUrl">Labels the span only; null when nobody listens.</param>
    /// <param name="parent">The caller's trace context (W3C traceparent); default to continue <see cref="Activity.Current"/>.</param>
    /// <param name="body">Receives the bencoded body.</param>
    public void Announce(ReadOnlySpan<char> query, PeerAddress? client, string? trackerUrl, ActivityContext parent, ArrayBufferWriter<byte> body)
    {
        try
        {
            if (client is null)
            {
                Refuse(body, "announce", client, "the connection has no client address");
                return;
            }

            if (!AnnounceQueryParser.TryParse(query, out var request, out var error))
            {
                Refuse(body, "announce", client, error!);
                return;
            }

            var peers = ArrayPool<PeerEndpoint>.Shared.Rent(Math.Max(1, _service.Policy.MaxNumWant));
            try
            {
                var result = _service.Announce(request, client.Value, TrackerTransport.Http, peers, sameFamilyOnly: false, trackerUrl, parent);
                if (!result.Accepted)
                {
                    // Already logged and counted by the service.
                    AnnounceResponses.WriteFailure(body, result.Refusal.Describe());
                    return;
                }

                AnnounceResponses.WriteAnnounce(body, request, result.Counts, _service.Policy, peers.AsSpan(0, result.Selected));
            }
            finally
            {
                ArrayPool<PeerEndpoint>.Shared.Return(peers);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Failed(body, HttpTrackerEndpoints.AnnouncePath, e);
        }
    }

    /// <summary>Writes the answer to `GET /scrape?<paramref name="query"/>` from <paramref name="client"/>.</summary>
    public void Scrape(ReadOnlySpan<char> query, PeerAddress? client, ArrayBufferWriter<byte> body)
    {
        try
        {
            var infoHashes = new List<InfoHash>();
            if (!ScrapeQueryParser.TryParse(query, _service.Policy.MaxScrapeHashes, infoHashes, out var error))
            {
                Refuse(body, "scrape", client, error!);
                return;
            }

            var files = infoHashes.Select(hash => (hash, _service.Scrape(hash, TrackerTransport.Http))).ToList();
            AnnounceResponses.WriteScrape(body, files);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Failed(body, HttpTrackerEndpoints.ScrapePath, e);
        }
    }

    private void Refuse(ArrayBufferWriter<byte> body, string kind, PeerAddress? client, string reason)
    {
        _service.Reject(TrackerTransport.Http, kind, client, reason);
        AnnounceResponses.WriteFailure(body, reason);
    }

    private void Failed(ArrayBufferWriter<byte> body, string path, Exception e)
    {
        LogFailed(_logger, path, e);
        // A half-written answer must not reach the client.
        body.ResetWrittenCount();
        AnnounceResponses.WriteFailure(body, "internal tracker error");
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Error, Message = "Tracker request {Path} failed")]
    private static partial void LogFailed(ILogger logger, string path, Exception exception);
}
