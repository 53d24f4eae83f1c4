using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Testbed.Contracts.Settings;
using Testbed.Inspector.Hosting;

namespace Testbed.Inspector.Dashboard;

/// <summary>The dashboard could not be read; <see cref="Exception.Message"/> is the reason shown to users.</summary>
public sealed class DashboardUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Counts kept while reading the follow stream.</summary>
public sealed record StreamProgress(long Lines, long MalformedLines, long OversizedLines, long RejectedSpans, string? LastProblem);

/// <summary>
/// A client of the Aspire dashboard's telemetry HTTP API (Aspire 13.x, served on the dashboard's frontend address):
/// <c>GET /api/telemetry/spans</c> (<c>limit</c>, <c>traceId</c>, <c>resource</c>, <c>hasError</c>; <c>follow=true</c>
/// streams NDJSON, one OTLP JSON object per span: first the spans held, then each new one),
/// <c>GET /api/telemetry/traces/{traceId}</c> and <c>GET /api/telemetry/resources</c>, authorised by the header
/// <c>x-api-key</c>. Every body is read within <see cref="InspectorOptions.MaxResponseBytes"/> (a stream line within
/// <see cref="InspectorOptions.MaxLineBytes"/>); failures become a <see cref="DashboardUnavailableException"/> whose message
/// says what to fix. The requests are polls (<see cref="TelemetryPolls"/>): they make no spans of the inspector's own.
/// </summary>
public sealed class TelemetryApiClient : IDisposable
{
    /// <summary>The dashboard's API key header.</summary>
    public const string ApiKeyHeader = "x-api-key";

    private readonly HttpClient _http;
    private readonly InspectorOptions _options;
    private readonly SpanLimits _limits;

    /// <summary>A client over its own handler: no redirects followed (a login redirect is an auth failure), no resilience handler retrying behind its back.</summary>
    public TelemetryApiClient(InspectorOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _limits = new SpanLimits(options.MaxSpansPerResponse, options.MaxAttributesPerSpan, options.MaxValueLength);
        handler ??= new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = options.RequestTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            AutomaticDecompression = DecompressionMethods.None,
        };
        _http = new HttpClient(handler) { BaseAddress = options.DashboardUri, Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The dashboard's base URL.</summary>
    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>The newest <paramref name="limit"/> spans the dashboard holds (<c>GET /api/telemetry/spans?limit=N</c>).</summary>
    public async Task<SpanBatch> GetSpansAsync(int limit, CancellationToken cancellationToken) =>
        (await GetBatchAsync($"api/telemetry/spans?limit={limit.ToString(System.Globalization.CultureInfo.InvariantCulture)}", notFoundIsEmpty: false, cancellationToken)
            .ConfigureAwait(false))!;

    /// <summary>Every span of one trace (<c>GET /api/telemetry/traces/{traceId}</c>), or null when the dashboard has no such trace.</summary>
    public Task<SpanBatch?> GetTraceAsync(string traceId, CancellationToken cancellationToken)
    {
        if (!OtlpSpanJson.IsTraceId(traceId))
        {
            throw new ArgumentException("not a trace id (32 hex digits)", nameof(traceId));
        }

        return GetBatchAsync("api/telemetry/traces/" + traceId.ToLowerInvariant(), notFoundIsEmpty: true, cancellationToken);
    }

    /// <summary>Checks the dashboard answers and accepts the key (<c>GET /api/telemetry/resources</c>, a small answer).</summary>
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        const string path = "api/telemetry/resources";
        using var poll = TelemetryPolls.Begin();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        using var response = await SendAsync(path, HttpCompletionOption.ResponseHeadersRead, timeout.Token, cancellationToken).ConfigureAwait(false);
        await ThrowIfFailedAsync(response, path).ConfigureAwait(false);
        await ReadBoundedAsync(response, path, timeout.Token, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Follows <c>GET /api/telemetry/spans?follow=true</c> until the stream ends (then throws: the dashboard stopped or
    /// restarted) or <paramref name="cancellationToken"/> is cancelled. <paramref name="connected"/> runs once the
    /// dashboard answered 200 (the dashboard sends its headers with the first span); <paramref name="onBatch"/> gets each
    /// line's spans. Malformed and oversized lines are skipped and counted in <paramref name="onProgress"/>.
    /// </summary>
    public async Task FollowSpansAsync(Action connected, Action<SpanBatch> onBatch, Action<StreamProgress> onProgress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connected);
        ArgumentNullException.ThrowIfNull(onBatch);
        ArgumentNullException.ThrowIfNull(onProgress);
        const string path = "api/telemetry/spans?follow=true";
        using var poll = TelemetryPolls.Begin();

        // No timeout on the response headers: the dashboard sends them with the first span, which may be long in coming
        // (an empty dashboard). A dead address fails at connect (ConnectTimeout); a hung dashboard is found by the probes.
        using (var response = await SendAsync(path, HttpCompletionOption.ResponseHeadersRead, cancellationToken, cancellationToken).ConfigureAwait(false))
        {
            await ThrowIfFailedAsync(response, path).ConfigureAwait(false);
            connected();
            long lines = 0, malformed = 0, oversized = 0, rejected = 0;
            string? problem = null;
            try
            {
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                var reader = new BoundedLineReader(stream, _options.MaxLineBytes);
                while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                {
                    lines++;
                    if (line.Oversized)
                    {
                        oversized++;
                        problem = $"skipped a stream line of {line.Length} bytes (over {InspectorSettings.MaxLineBytes.EnvironmentVariable} = {_options.MaxLineBytes})";
                        onProgress(new StreamProgress(lines, malformed, oversized, rejected, problem));
                        continue;
                    }

                    SpanBatch batch;
                    try
                    {
                        batch = OtlpSpanJson.ParseTelemetryData(line.Bytes, _limits, $"span stream line {lines}");
                    }
                    catch (TelemetryFormatException e)
                    {
                        malformed++;
                        problem = e.Message;
                        onProgress(new StreamProgress(lines, malformed, oversized, rejected, problem));
                        continue;
                    }

                    if (batch.Rejected > 0)
                    {
                        rejected += batch.Rejected;
                        problem = batch.FirstRejection;
                    }

                    onBatch(batch);
                    onProgress(new StreamProgress(lines, malformed, oversized, rejected, problem));
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is IOException or HttpRequestException)
            {
                throw new DashboardUnavailableException("the span stream broke: " + Reason(e), e);
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw new DashboardUnavailableException("the dashboard ended the span stream (stopped or restarting)");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private async Task<SpanBatch?> GetBatchAsync(string path, bool notFoundIsEmpty, CancellationToken cancellationToken)
    {
        using var poll = TelemetryPolls.Begin();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        using var response = await SendAsync(path, HttpCompletionOption.ResponseHeadersRead, timeout.Token, cancellationToken).ConfigureAwait(false);
        if (notFoundIsEmpty && response.StatusCode == HttpStatusCode.NotFound && IsJson(response))
        {
            return null;
        }

        await ThrowIfFailedAsync(response, path).ConfigureAwait(false);
        if (!IsJson(response))
        {
            throw new TelemetryFormatException($"/{path}: expected JSON, got '{response.Content.Headers.ContentType?.MediaType ?? "no content type"}'.");
        }

        var body = await ReadBoundedAsync(response, path, timeout.Token, cancellationToken).ConfigureAwait(false);
        return OtlpSpanJson.ParseApiResponse(body, _limits, "/" + path);
    }

    private async Task<HttpResponseMessage> SendAsync(string path, HttpCompletionOption completion, CancellationToken token, CancellationToken caller)
    {
        using var request = TelemetryPolls.Mark(new HttpRequestMessage(HttpMethod.Get, path));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        if (!string.IsNullOrEmpty(_options.DashboardApiKey))
        {
            request.Headers.TryAddWithoutValidation(ApiKeyHeader, _options.DashboardApiKey);
        }

        try
        {
            return await _http.SendAsync(request, completion, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!caller.IsCancellationRequested)
        {
            throw new DashboardUnavailableException($"no answer from {_http.BaseAddress} within {_options.RequestTimeout.TotalSeconds:0.#} s", e);
        }
        catch (HttpRequestException e)
        {
            throw new DashboardUnavailableException(Reason(e), e);
        }
    }

    private async Task ThrowIfFailedAsync(HttpResponseMessage response, string path)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase} from /{path.Split('?')[0]}";
        var keyName = InspectorSettings.DashboardApiKey.EnvironmentVariable;
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new DashboardUnavailableException(string.IsNullOrEmpty(_options.DashboardApiKey)
                ? $"{status}: the dashboard wants an API key; set {keyName} to the dashboard's Dashboard:Api:PrimaryApiKey"
                : $"{status}: the dashboard refused the API key; {keyName} must equal the dashboard's Dashboard:Api:PrimaryApiKey"),
            HttpStatusCode.NotFound => new DashboardUnavailableException(
                $"{status}: no telemetry API there; is {InspectorSettings.DashboardUrl.EnvironmentVariable} the dashboard's frontend address, and is its API enabled (Dashboard:Api:Enabled=true)?"),
            >= HttpStatusCode.MultipleChoices and < HttpStatusCode.BadRequest => new DashboardUnavailableException(
                $"{status} to {response.Headers.Location?.ToString() ?? "elsewhere"}: the dashboard redirects (a browser login?); the telemetry API needs {keyName}"),
            _ => new DashboardUnavailableException($"{status}{await ProblemDetailAsync(response).ConfigureAwait(false)}"),
        };
    }

    /// <summary>The body of a failed response, bounded, in one line (the dashboard answers problem details).</summary>
    private static async Task<string> ProblemDetailAsync(HttpResponseMessage response)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            var buffer = new byte[512];
            var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, timeout.Token).ConfigureAwait(false);
            var text = System.Text.Encoding.UTF8.GetString(buffer, 0, read).ReplaceLineEndings(" ").Trim();
            return text.Length == 0 ? "" : ": " + text;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            return "";
        }
    }

    private async Task<ReadOnlyMemory<byte>> ReadBoundedAsync(HttpResponseMessage response, string path, CancellationToken token, CancellationToken caller)
    {
        var max = _options.MaxResponseBytes;
        var limitName = InspectorSettings.MaxResponseBytes.EnvironmentVariable;
        if (response.Content.Headers.ContentLength is { } declared && declared > max)
        {
            throw new TelemetryFormatException($"/{path}: the response is {declared} bytes, over {limitName} = {max}.");
        }

        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            using var body = new MemoryStream();
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
            {
                if (body.Length + read > max)
                {
                    throw new TelemetryFormatException($"/{path}: the response is longer than {limitName} = {max} bytes; not read further.");
                }

                body.Write(buffer, 0, read);
            }

            return body.GetBuffer().AsMemory(0, (int)body.Length);
        }
        catch (OperationCanceledException e) when (!caller.IsCancellationRequested)
        {
            throw new DashboardUnavailableException($"/{path}: the response did not arrive within {_options.RequestTimeout.TotalSeconds:0.#} s", e);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new DashboardUnavailableException($"/{path}: the response broke off: {Reason(e)}", e);
        }
    }

    private static bool IsJson(HttpResponseMessage response) =>
        response.Content.Headers.ContentType?.MediaType is { } type && type.Contains("json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The innermost useful message: "Connection refused (127.0.0.1:18888)" rather than the wrapper's.</summary>
    internal static string Reason(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return e is HttpRequestException { Message: { Length: > 0 } message } ? message : socket.Message;
            }
        }

        var text = (e.InnerException is { } cause && e is HttpRequestException or IOException ? $"{e.Message} ({cause.Message})" : e.Message).ReplaceLineEndings(" ");
        return text.Length > 300 ? text[..300] + "…" : text;
    }
}
