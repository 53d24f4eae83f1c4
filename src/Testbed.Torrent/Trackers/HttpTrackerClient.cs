using System.Globalization;
using System.Net;
using System.Text;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Trackers;

/// <summary>An HTTP(S) tracker (BEP 3 announce with compact peers per BEP 23, BEP 48 scrape).</summary>
public sealed class HttpTrackerClient : ITrackerClient
{
    private readonly HttpClient _httpClient;
    private readonly bool _ownsHttpClient;
    private readonly TrackerClientOptions _options;
    private string? _trackerId;

    /// <summary>
    /// Creates a client; when <paramref name="httpClient"/> is null the client makes and owns one from
    /// <see cref="CreateHttpClient"/>. A supplied one should not reuse connections either (see there).
    /// </summary>
    public HttpTrackerClient(Uri announceUri, HttpClient? httpClient = null, TrackerClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(announceUri);
        if (announceUri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"'{announceUri}' is not an http:// or https:// URL", nameof(announceUri));
        }

        Uri = announceUri;
        _options = options ?? new TrackerClientOptions();
        _ownsHttpClient = httpClient is null;
        _httpClient = httpClient ?? CreateHttpClient();
    }

    /// <inheritdoc />
    public Uri Uri { get; }

    /// <summary>
    /// An HttpClient for tracker requests that sends every request on a connection of its own. Trackers such as
    /// opentracker answer HTTP/1.1 without "Connection: close" and close the connection only after answering, and
    /// SocketsHttpHandler pools a connection even when the request said "Connection: close"; the next announce could then
    /// go out on a connection the tracker was closing, and the tracker's close reset it. A zero idle timeout makes the
    /// handler dispose of each connection as soon as its response has been read, instead of pooling it.
    /// </summary>
    public static HttpClient CreateHttpClient() =>
        new(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All, PooledConnectionIdleTimeout = TimeSpan.Zero })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

    /// <summary>The BEP 48 scrape URL (the last path segment's `announce` replaced by `scrape`), or null if the tracker has none.</summary>
    public Uri? ScrapeUri
    {
        get
        {
            var path = Uri.AbsolutePath;
            var slash = path.LastIndexOf('/');
            if (slash < 0 || !path.AsSpan(slash + 1).StartsWith("announce", StringComparison.Ordinal))
            {
                return null;
            }

            var builder = new UriBuilder(Uri) { Path = string.Concat(path.AsSpan(0, slash + 1), "scrape", path.AsSpan(slash + 1 + "announce".Length)) };
            return builder.Uri;
        }
    }

    /// <summary>The full announce URL for a request, binary values percent-encoded byte by byte.</summary>
    public Uri BuildAnnounceUri(AnnounceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = new StringBuilder();
        query.Append("info_hash=").Append(request.InfoHash.ToUrlEncoded());
        query.Append("&peer_id=").Append(PercentEncoding.Encode(request.PeerId.Span));
        query.Append(CultureInfo.InvariantCulture, $"&port={request.Port}&uploaded={request.Uploaded}&downloaded={request.Downloaded}&left={request.Left}");
        query.Append("&compact=1");
        if (request.Event.ToQueryValue() is { } name)
        {
            query.Append("&event=").Append(name);
        }

        if (request.NumWant is { } numWant)
        {
            query.Append(CultureInfo.InvariantCulture, $"&numwant={numWant}");
        }

        query.Append(CultureInfo.InvariantCulture, $"&key={request.Key:x8}");
        if (request.Address is { } address)
        {
            query.Append("&ip=").Append(Uri.EscapeDataString(address.ToString()));
        }

        if (_trackerId is { } id)
        {
            query.Append("&trackerid=").Append(Uri.EscapeDataString(id));
        }

        return Append(Uri, query.ToString());
    }

    /// <inheritdoc />
    public Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AnnounceActivity.TraceAsync(Uri, request, async () =>
        {
            var body = await GetAsync(BuildAnnounceUri(request), cancellationToken).ConfigureAwait(false);
            var response = HttpTrackerResponse.ParseAnnounce(Uri, body, _options.MaxPeers);
            if (response.TrackerId is { Length: > 0 } id)
            {
                _trackerId = id;
            }

            return response;
        });
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        var scrape = ScrapeUri ?? throw new TrackerException(Uri, "does not support scrape (its path does not end in 'announce')", isRetryable: false);
        var query = string.Join('&', infoHashes.Select(h => "info_hash=" + h.ToUrlEncoded()));
        var body = await GetAsync(query.Length == 0 ? scrape : Append(scrape, query), cancellationToken).ConfigureAwait(false);
        return HttpTrackerResponse.ParseScrape(Uri, body);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttpClient)
        {
            _httpClient.Dispose();
        }
    }

    private static Uri Append(Uri baseUri, string query)
    {
        var text = baseUri.OriginalString;
        var fragment = text.IndexOf('#', StringComparison.Ordinal);
        if (fragment >= 0)
        {
            text = text[..fragment];
        }

        var separator = !text.Contains('?', StringComparison.Ordinal) ? "?" : text.EndsWith('?') || text.EndsWith('&') ? string.Empty : "&";
        return new Uri(text + separator + query, UriKind.Absolute);
    }

    private async Task<ReadOnlyMemory<byte>> GetAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.HttpTimeout);
        try
        {
            // One connection per request (announces are minutes apart): the header asks the tracker to close it, and
            // CreateHttpClient's handler never reuses it (the header alone does not stop SocketsHttpHandler pooling it).
            using var request = new HttpRequestMessage(HttpMethod.Get, uri) { Headers = { ConnectionClose = true } };
            using var response = await _httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var body = await ReadBoundedAsync(response.Content, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                // Some trackers send their failure reason with an error status; surface it if present.
                HttpTrackerResponse.ThrowIfFailure(Uri, body);
                var code = (int)response.StatusCode;
                throw new TrackerException(Uri, $"HTTP {code} {response.ReasonPhrase}", isRetryable: code >= 500 || code == 429 || code == 408);
            }

            return body;
        }
        catch (OperationCanceledException error) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TrackerException(Uri, $"no response within {_options.HttpTimeout.TotalSeconds:0.#} s", isRetryable: true, error);
        }
        catch (HttpRequestException error)
        {
            throw new TrackerException(Uri, error.Message, isRetryable: true, error);
        }
        catch (IOException error)
        {
            throw new TrackerException(Uri, error.Message, isRetryable: true, error);
        }
    }

    private async Task<ReadOnlyMemory<byte>> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > _options.MaxResponseBytes)
        {
            throw new TrackerException(Uri, $"response of {content.Headers.ContentLength} bytes exceeds the limit of {_options.MaxResponseBytes}", isRetryable: false);
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > _options.MaxResponseBytes)
                {
                    throw new TrackerException(Uri, $"response exceeds the limit of {_options.MaxResponseBytes} bytes", isRetryable: false);
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        }
    }
}
