using System.Net;
using System.Text;

namespace Testbed.Dashboard.ControlPlane;

/// <summary>An answer of the AppHost's control API, passed through to the UI as is.</summary>
public sealed record ControlApiAnswer(int Status, string ContentType, string Body);

/// <summary>
/// Talks to the AppHost's control API (JSON over HTTP on loopback): resources with states, commands,
/// console output. The dashboard knows the orchestrator only through these routes.
/// </summary>
public sealed class ControlApiClient(Uri? baseUrl) : IDisposable
{
    /// <summary>Largest answer read from the control API.</summary>
    public const int MaxAnswerBytes = 16 * 1024 * 1024;

    // Commands wait for the resource (a restart waits for the new process to be healthy), so the timeout is generous.
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(150), MaxResponseContentBufferSize = MaxAnswerBytes };

    private Uri? _baseUrl = baseUrl;

    /// <summary>The control API's base URL, or null when the dashboard runs without an AppHost; set once the AppHost knows it.</summary>
    public Uri? BaseUrl
    {
        get => Volatile.Read(ref _baseUrl);
        set => Volatile.Write(ref _baseUrl, value);
    }

    /// <summary>GET /api/resources.</summary>
    public Task<ControlApiAnswer> ResourcesAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "api/resources", cancellationToken);

    /// <summary>GET /api/resources/{name}/console?tail=N.</summary>
    public Task<ControlApiAnswer> ConsoleAsync(string name, int tail, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"api/resources/{Uri.EscapeDataString(name)}/console?tail={tail}", cancellationToken);

    /// <summary>POST /api/resources/{name}/commands/{command}.</summary>
    public Task<ControlApiAnswer> CommandAsync(string name, string command, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"api/resources/{Uri.EscapeDataString(name)}/commands/{Uri.EscapeDataString(command)}", cancellationToken);

    /// <summary>Closes the HTTP client.</summary>
    public void Dispose() => _http.Dispose();

    private async Task<ControlApiAnswer> SendAsync(HttpMethod method, string relative, CancellationToken cancellationToken)
    {
        var baseUrl = BaseUrl;
        if (baseUrl is null)
        {
            return Error(HttpStatusCode.ServiceUnavailable, "The dashboard runs without an AppHost control API (no ControlApiUrl), so it has no resources.");
        }

        var target = new Uri(new Uri(baseUrl.ToString().TrimEnd('/') + "/"), relative);
        try
        {
            using var request = new HttpRequestMessage(method, target);
            using var response = await _http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return new ControlApiAnswer((int)response.StatusCode, response.Content.Headers.ContentType?.ToString() ?? "application/json", body);
        }
        catch (HttpRequestException e)
        {
            return Error(HttpStatusCode.BadGateway, $"The control API at {baseUrl} cannot be reached: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Error(HttpStatusCode.GatewayTimeout, $"The control API at {baseUrl} did not answer {method} {relative} in time.");
        }
    }

    private static ControlApiAnswer Error(HttpStatusCode status, string message)
    {
        var json = new StringBuilder("{\"error\":").Append(System.Text.Json.JsonSerializer.Serialize(message)).Append('}').ToString();
        return new ControlApiAnswer((int)status, "application/json", json);
    }
}
