using System.Text.Json;
using System.Text.Json.Serialization;

namespace Testbed.Chaos.Execution;

/// <summary>A resource as the AppHost's control API reports it (the fields the chaos controller uses).</summary>
public sealed record ResourceView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("resourceName")] string ResourceName,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("health")] string Health,
    [property: JsonPropertyName("paused")] bool Paused,
    [property: JsonPropertyName("urls")] IReadOnlyDictionary<string, string>? Urls)
{
    /// <summary>A process runs and is not frozen.</summary>
    [JsonIgnore]
    public bool IsLive => State is "Running" or "RuntimeUnhealthy" && !Paused;
}

/// <summary>Client of the AppHost's control API: GET /api/resources, POST /api/resources/{name}/commands/{command}.</summary>
public sealed class ControlApiClient(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Every resource.</summary>
    public async Task<IReadOnlyList<ResourceView>> GetResourcesAsync(CancellationToken cancellationToken) =>
        await http.GetFromJsonAsync<ResourceView[]>(new Uri("api/resources", UriKind.Relative), Json, cancellationToken).ConfigureAwait(false) ?? [];

    /// <summary>Runs a command; throws <see cref="ChaosStepException"/> with the API's error text when it is refused.</summary>
    public async Task ExecuteAsync(string resource, string command, CancellationToken cancellationToken)
    {
        var uri = new Uri($"api/resources/{Uri.EscapeDataString(resource)}/commands/{Uri.EscapeDataString(command)}", UriKind.Relative);
        using var response = await http.PostAsync(uri, content: null, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new ChaosStepException($"control API refused {command} of {resource}: {(int)response.StatusCode} {Truncate(body)}");
        }
    }

    internal static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "...";
}

/// <summary>A step could not do what it says (a refused command, an unreachable peer, a peer without the proxy's addresses).</summary>
public sealed class ChaosStepException(string message, Exception? inner = null) : Exception(message, inner);
