using System.Net.Http.Json;
using System.Text.Json;
using Testbed.AppHost.ControlApi;
using Testbed.AppHost.Orchestration;

namespace Testbed.Testing.ControlApi;

/// <summary>Typed client of the AppHost's control API (JSON over HTTP), as the dashboard and chaos controller use it.</summary>
public sealed class ControlApiClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;

    /// <summary>A client of the control API at <paramref name="baseAddress"/>.</summary>
    public ControlApiClient(Uri baseAddress)
    {
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The underlying HttpClient, for raw requests (status codes, error bodies).</summary>
    public HttpClient Http => _http;

    /// <summary>GET /api/resources.</summary>
    public async Task<IReadOnlyList<ResourceSnapshot>> GetResourcesAsync(CancellationToken cancellationToken = default) =>
        await ReadAsync<ResourceSnapshot[]>(await _http.GetAsync(new Uri("api/resources", UriKind.Relative), cancellationToken), cancellationToken);

    /// <summary>GET /api/resources/{name}.</summary>
    public async Task<ResourceSnapshot> GetResourceAsync(string name, CancellationToken cancellationToken = default) =>
        await ReadAsync<ResourceSnapshot>(await _http.GetAsync(new Uri($"api/resources/{Uri.EscapeDataString(name)}", UriKind.Relative), cancellationToken), cancellationToken);

    /// <summary>POST /api/resources/{name}/commands/{command}; returns the resource after the command.</summary>
    public async Task<ResourceSnapshot> ExecuteAsync(string name, string command, CancellationToken cancellationToken = default)
    {
        var uri = new Uri($"api/resources/{Uri.EscapeDataString(name)}/commands/{Uri.EscapeDataString(command)}", UriKind.Relative);
        var result = await ReadAsync<CommandResult>(await _http.PostAsync(uri, content: null, cancellationToken), cancellationToken);
        return result.Resource;
    }

    /// <summary>GET /api/resources/{name}/console?tail=N.</summary>
    public async Task<ConsoleTail> GetConsoleAsync(string name, int tail = 200, CancellationToken cancellationToken = default) =>
        await ReadAsync<ConsoleTail>(await _http.GetAsync(new Uri($"api/resources/{Uri.EscapeDataString(name)}/console?tail={tail}", UriKind.Relative), cancellationToken), cancellationToken);

    /// <summary>GET /api/apphost.</summary>
    public async Task<AppHostInfo> GetAppHostAsync(CancellationToken cancellationToken = default) =>
        await ReadAsync<AppHostInfo>(await _http.GetAsync(new Uri("api/apphost", UriKind.Relative), cancellationToken), cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                string? error = null;
                try
                {
                    error = JsonSerializer.Deserialize<ControlApiError>(body, Json)?.Error;
                }
                catch (JsonException)
                {
                    // Not our error shape: report the raw body.
                }

                throw new ControlApiException(response.StatusCode, error ?? body);
            }

            return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
                ?? throw new ControlApiException(response.StatusCode, "empty body");
        }
    }
}

/// <summary>The control API answered with an error status; <see cref="Exception.Message"/> is its error text.</summary>
public sealed class ControlApiException(System.Net.HttpStatusCode statusCode, string error)
    : Exception($"Control API answered {(int)statusCode} {statusCode}: {error}")
{
    /// <summary>The HTTP status (404 unknown resource, 400 unknown command, 409 not applicable in this state).</summary>
    public System.Net.HttpStatusCode StatusCode { get; } = statusCode;

    /// <summary>The error text from the body.</summary>
    public string Error { get; } = error;
}
