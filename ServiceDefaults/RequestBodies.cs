using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Request bodies read with their limits enforced first: each endpoint declares its largest body
/// (<see cref="WithRequestBodyLimit{TBuilder}"/>, applied to Kestrel's <see cref="IHttpMaxRequestBodySizeFeature"/> before the
/// handler runs, so a larger body is refused without being buffered), and <see cref="ReadJsonAsync"/> reads at most that many
/// bytes, checks UTF-8 and the nesting depth before any handler sees the document. Every failure is a
/// <see cref="BadHttpRequestException"/> whose message names the limit or the problem; <see cref="ErrorResponses"/> turns it
/// into a 4xx problem-details answer.
/// </summary>
public static class RequestBodies
{
    /// <summary>Largest body any endpoint of a testbed service accepts unless it declares its own limit (Kestrel's default is 30 MB).</summary>
    public const long DefaultMaxBytes = 1024 * 1024;

    /// <summary>Deepest JSON nesting accepted by <see cref="ReadJsonAsync"/> unless told otherwise.</summary>
    public const int DefaultMaxDepth = 32;

    /// <summary>Declares the largest request body the endpoint(s) accept; larger bodies get 413 before the handler runs.</summary>
    public static TBuilder WithRequestBodyLimit<TBuilder>(this TBuilder builder, long maxBytes) where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        builder.WithMetadata(new RequestBodyLimit(maxBytes));
        return builder;
    }

    /// <summary>The body limit declared for the request's endpoint, if any.</summary>
    public static long? DeclaredLimit(HttpContext context) =>
        context?.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize;

    /// <summary>Applies the endpoint's declared limit to the server (called by the service defaults' middleware).</summary>
    internal static void ApplyDeclaredLimit(HttpContext context)
    {
        if (DeclaredLimit(context) is { } limit &&
            context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature &&
            (feature.MaxRequestBodySize is null || feature.MaxRequestBodySize > limit))
        {
            feature.MaxRequestBodySize = limit;
        }

        context.Response.OnStarting(CloseIfBodyLeftUnread, context);
    }

    /// <summary>
    /// A body over the limit is read to its end neither by the handler nor by Kestrel, which ends the connection after the
    /// answer instead. The answer says so, or the client may send its next request on that connection and see it cut.
    /// </summary>
    private static Task CloseIfBodyLeftUnread(object state)
    {
        var context = (HttpContext)state;
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge || context.Request.ContentLength > limit)
        {
            context.Response.Headers.Connection = "close";
        }

        return Task.CompletedTask;
    }

    /// <summary>Whether the request carries a body at all (a length above zero, or chunked).</summary>
    public static bool HasBody(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
    }

    /// <summary>
    /// Reads the request body as one JSON document: content type application/json (or +json), at most
    /// <paramref name="maxBytes"/> bytes (and never more than the endpoint's declared limit), valid UTF-8, at most
    /// <paramref name="maxDepth"/> levels deep. Throws <see cref="BadHttpRequestException"/> (400, 413 or 415) naming the problem.
    /// </summary>
    public static async Task<JsonDocument> ReadJsonAsync(HttpContext context, long maxBytes, int maxDepth = DefaultMaxDepth)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var limit = Math.Min(maxBytes, DeclaredLimit(context) ?? maxBytes);
        if (!HasBody(request))
        {
            throw new BadHttpRequestException("the request has no body; a JSON document is required", StatusCodes.Status400BadRequest);
        }

        if (!IsJson(request.ContentType))
        {
            throw new BadHttpRequestException("Content-Type must be application/json", StatusCodes.Status415UnsupportedMediaType);
        }

        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        var bytes = await ReadCappedAsync(request.Body, limit, context.RequestAborted).ConfigureAwait(false);
        if (!Utf8.IsValid(bytes.WrittenSpan))
        {
            throw new BadHttpRequestException("the request body is not valid UTF-8 (JSON text must be UTF-8)", StatusCodes.Status400BadRequest);
        }

        try
        {
            // The document keeps referring to the buffer: it is not reused.
            return JsonDocument.Parse(bytes.WrittenMemory, new JsonDocumentOptions { MaxDepth = maxDepth });
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException($"the request body is not valid JSON (at most {maxDepth} levels deep): {e.Message}", StatusCodes.Status400BadRequest, e);
        }
    }

    /// <summary>
    /// The string value of <paramref name="element"/>, which must be a JSON string; a string JSON cannot turn into text (a lone
    /// surrogate escape such as <c>"\ud800"</c>) is a 400 naming <paramref name="field"/>, not a 500.
    /// </summary>
    public static string GetString(JsonElement element, string field)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            throw new BadHttpRequestException($"'{field}' must be a JSON string", StatusCodes.Status400BadRequest);
        }

        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new BadHttpRequestException($"'{field}' holds an escape that is not text (a lone UTF-16 surrogate)", StatusCodes.Status400BadRequest);
        }
    }

    /// <summary>The 413 raised when a body is larger than <paramref name="limit"/>.</summary>
    public static BadHttpRequestException TooLarge(long limit) =>
        new($"the request body is larger than {limit} bytes, this endpoint's limit", StatusCodes.Status413PayloadTooLarge);

    private static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
               (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    private static async Task<ArrayBufferWriter<byte>> ReadCappedAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(limit + 1, 16 * 1024));
        while (true)
        {
            var room = buffer.GetMemory(4096);
            // Never ask for more than one byte past the limit: that byte is the proof the body is too large.
            var want = (int)Math.Min(room.Length, limit + 1 - buffer.WrittenCount);
            int read;
            try
            {
                read = await body.ReadAsync(room[..want], cancellationToken).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                throw TooLarge(limit);
            }

            if (read == 0)
            {
                return buffer;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                throw TooLarge(limit);
            }
        }
    }

    private sealed class RequestBodyLimit(long maxBytes) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize { get; } = maxBytes;
    }
}
