using System.Net;
using System.Text;
using System.Text.Json;
using Testbed.Contracts;
using Testbed.Contracts.Peers;

namespace Testbed.Chaos.Execution;

/// <summary>
/// Client of one peer's HTTP API (GET /status, /blocks/{hash}, /blocklog, /consistency; POST /mining, /tx, /faults/{name};
/// DELETE /faults/{name}).
/// Reading /status is a poll (<see cref="TelemetryPolls"/>): it makes no span here nor in the peer. Requests sent inside a
/// caller's poll scope are marked as polls too; every other request (mining, faults, transactions) is traced.
/// </summary>
public sealed class PeerApiClient(HttpClient http)
{
    /// <summary>Largest response body read (a /status is a few KiB).</summary>
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    /// <summary>GET /status, as a poll.</summary>
    public async Task<PeerStatus> GetStatusAsync(Uri peer, CancellationToken cancellationToken)
    {
        using var poll = TelemetryPolls.Begin();
        return await GetAsync<PeerStatus>(new Uri(peer, "status"), cancellationToken).ConfigureAwait(false)
            ?? throw new ChaosStepException($"{peer} has no /status");
    }

    /// <summary>GET /blocklog?after=N: the entries after <paramref name="after"/> (a page), as a poll when called inside one.</summary>
    public async Task<BlockLogPage> GetBlockLogAsync(Uri peer, long after, CancellationToken cancellationToken) =>
        await GetAsync<BlockLogPage>(new Uri(peer, $"blocklog?after={after}"), cancellationToken).ConfigureAwait(false)
            ?? throw new ChaosStepException($"{peer} has no /blocklog");

    /// <summary>GET /consistency (a deep check: the peer replays its whole best chain).</summary>
    public async Task<ConsistencyReport> GetConsistencyAsync(Uri peer, CancellationToken cancellationToken) =>
        await GetAsync<ConsistencyReport>(new Uri(peer, "consistency"), cancellationToken).ConfigureAwait(false)
            ?? throw new ChaosStepException($"{peer} has no /consistency");

    /// <summary>GET /blocks/{hash}: (known, on the main chain).</summary>
    public async Task<(bool Known, bool OnMainChain)> GetBlockAsync(Uri peer, string hash, CancellationToken cancellationToken)
    {
        using var document = await GetJsonAsync(new Uri(peer, $"blocks/{Uri.EscapeDataString(hash)}"), cancellationToken).ConfigureAwait(false);
        return document is null
            ? (false, false)
            : (true, document.RootElement.TryGetProperty("onMainChain", out var main) && main.ValueKind == JsonValueKind.True);
    }

    /// <summary>POST /mining {"action":"mine","blocks":n}: the blocks mined.</summary>
    public async Task<IReadOnlyList<MinedBlockReport>> MineAsync(Uri peer, int blocks, CancellationToken cancellationToken) =>
        (await PostAsync<MineResult>(new Uri(peer, "mining"), MiningRequest.Mine(blocks), cancellationToken).ConfigureAwait(false)).Mined;

    /// <summary>POST /mining start or stop.</summary>
    public async Task SetMiningAsync(Uri peer, bool start, CancellationToken cancellationToken)
    {
        await PostAsync<MiningStatus>(new Uri(peer, "mining"), start ? MiningRequest.Start : MiningRequest.Stop, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /tx with an unsigned contract (a JSON array of actions) the peer signs.</summary>
    public async Task SubmitContractAsync(Uri peer, string actionsJson, CancellationToken cancellationToken)
    {
        JsonElement actions;
        try
        {
            actions = JsonSerializer.Deserialize<JsonElement>(actionsJson);
        }
        catch (JsonException e)
        {
            throw new ChaosStepException($"the contract's actions are not JSON: {e.Message}", e);
        }

        await PostAsync<TransactionAccepted>(new Uri(peer, "tx"), new ContractSubmission(actions), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /faults/{name}.</summary>
    public async Task SetFaultAsync(Uri peer, string name, double share, long skewMs, CancellationToken cancellationToken) =>
        await PostAsync<Dictionary<string, FaultSettings>>(
            new Uri(peer, $"faults/{Uri.EscapeDataString(name)}"), new FaultSettings { Share = share, SkewMs = skewMs }, cancellationToken).ConfigureAwait(false);

    /// <summary>DELETE /faults/{name}; a fault that was not on is not an error.</summary>
    public async Task ClearFaultAsync(Uri peer, string name, CancellationToken cancellationToken)
    {
        using var request = TelemetryPolls.MarkIfPolling(new HttpRequestMessage(HttpMethod.Delete, new Uri(peer, $"faults/{Uri.EscapeDataString(name)}")));
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
        {
            throw new ChaosStepException($"DELETE {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}");
        }
    }

    private async Task<T?> GetAsync<T>(Uri uri, CancellationToken cancellationToken)
        where T : class
    {
        using var request = TelemetryPolls.MarkIfPolling(new HttpRequestMessage(HttpMethod.Get, uri));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.NotFound ? null : Read<T>(response, await BodyAsync(response, cancellationToken).ConfigureAwait(false));
    }

    private async Task<T> PostAsync<T>(Uri uri, object body, CancellationToken cancellationToken)
        where T : class
    {
        using var content = new StringContent(JsonSerializer.Serialize(body, ContractJson.Options), Encoding.UTF8, "application/json");
        using var request = TelemetryPolls.MarkIfPolling(new HttpRequestMessage(HttpMethod.Post, uri) { Content = content });
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return Read<T>(response, await BodyAsync(response, cancellationToken).ConfigureAwait(false));
    }

    private static T Read<T>(HttpResponseMessage response, string body)
        where T : class
    {
        try
        {
            return ContractJson.Read<T>(body);
        }
        catch (JsonException e)
        {
            throw new ChaosStepException($"{response.RequestMessage?.RequestUri} answered something that is not a {typeof(T).Name}: {e.Message}", e);
        }
    }

    private async Task<JsonDocument?> GetJsonAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var request = TelemetryPolls.MarkIfPolling(new HttpRequestMessage(HttpMethod.Get, uri));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        return await ReadAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<JsonDocument> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await BodyAsync(response, cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new ChaosStepException($"{response.RequestMessage?.RequestUri} answered something that is not JSON: {e.Message}", e);
        }
    }

    /// <summary>The body of a successful answer of at most <see cref="MaxBodyBytes"/>; anything else is a <see cref="ChaosStepException"/>.</summary>
    private static async Task<string> BodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is > MaxBodyBytes)
        {
            throw new ChaosStepException($"{response.RequestMessage?.RequestUri} answered {response.Content.Headers.ContentLength} bytes; at most {MaxBodyBytes}");
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new ChaosStepException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {ControlApiClient.Truncate(body)}");
        }

        return body;
    }
}
