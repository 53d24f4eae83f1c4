using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Testbed.Chaos.Execution;

/// <summary>A peer's /status, reduced to what the checker and the proxy need.</summary>
public sealed record PeerStatus(
    string Peer,
    long Height,
    string TipHash,
    string StateRoot,
    long Rejected,
    int Banned,
    int ConnectedPeers,
    IPEndPoint? Swarm,
    IPEndPoint? Torrents,
    int Mempool,
    string? LiveStateRoot = null,
    string? Boot = null,
    long BlockLogSeq = 0,
    IReadOnlyList<string>? Broken = null);

/// <summary>One entry of a peer's block log (GET /blocklog).</summary>
public sealed record BlockLogEntry(long Seq, long AtMs, string Hash, long Height, string Via, string Status, bool Accepted, string? Reason, string? From);

/// <summary>A page of a peer's block log: its process, the oldest entry it still holds, its last one, and the entries asked for.</summary>
public sealed record BlockLogPage(string Boot, long FirstSeq, long LastSeq, IReadOnlyList<BlockLogEntry> Entries);

/// <summary>A peer's answer to GET /consistency.</summary>
public sealed record ConsistencyReport(bool Consistent, IReadOnlyList<string> Problems, long Height, string TipHash, string StateRoot, string LiveStateRoot);

/// <summary>A block a peer mined on request.</summary>
public sealed record MinedBlock(string Hash, long Height, bool Faulty, bool Withheld);

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
        using var document = await GetJsonAsync(new Uri(peer, "status"), cancellationToken).ConfigureAwait(false)
            ?? throw new ChaosStepException($"{peer} has no /status");
        var root = document.RootElement;
        return new PeerStatus(
            Text(root, "peer") ?? "",
            root.TryGetProperty("height", out var h) && h.TryGetInt64(out var height) ? height : 0,
            Text(root, "tipHash") ?? "",
            Text(root, "stateRoot") ?? "",
            root.TryGetProperty("blocksRejected", out var r) && r.TryGetInt64(out var rejected) ? rejected : 0,
            root.TryGetProperty("banned", out var b) && b.ValueKind == JsonValueKind.Array ? b.GetArrayLength() : 0,
            root.TryGetProperty("connectedPeers", out var c) && c.ValueKind == JsonValueKind.Array ? c.GetArrayLength() : 0,
            IPEndPoint.TryParse(Text(root, "swarm") ?? "", out var swarm) ? swarm : null,
            IPEndPoint.TryParse(Text(root, "torrentEndPoint") ?? "", out var torrents) ? torrents : null,
            root.TryGetProperty("mempool", out var m) && m.TryGetInt32(out var mempool) ? mempool : 0,
            Text(root, "liveStateRoot"),
            Text(root, "boot"),
            root.TryGetProperty("blockLogSeq", out var seq) && seq.TryGetInt64(out var blockLogSeq) ? blockLogSeq : 0,
            root.TryGetProperty("broken", out var broken) && broken.ValueKind == JsonValueKind.Array
                ? [.. broken.EnumerateArray().Take(16).Where(b => b.ValueKind == JsonValueKind.String).Select(b => b.GetString()!)]
                : null);
    }

    /// <summary>GET /blocklog?after=N: the entries after <paramref name="after"/> (a page), as a poll when called inside one.</summary>
    public async Task<BlockLogPage> GetBlockLogAsync(Uri peer, long after, CancellationToken cancellationToken)
    {
        using var document = await GetJsonAsync(new Uri(peer, $"blocklog?after={after}"), cancellationToken).ConfigureAwait(false)
            ?? throw new ChaosStepException($"{peer} has no /blocklog");
        var root = document.RootElement;
        var entries = new List<BlockLogEntry>();
        if (root.TryGetProperty("entries", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in list.EnumerateArray().Take(10_000))
            {
                if (Text(e, "hash") is not { } hash || !e.TryGetProperty("seq", out var s) || !s.TryGetInt64(out var entrySeq))
                {
                    throw new ChaosStepException($"{peer} answered /blocklog with an entry that has no hash or seq");
                }

                entries.Add(new BlockLogEntry(
                    entrySeq,
                    e.TryGetProperty("atMs", out var at) && at.TryGetInt64(out var atMs) ? atMs : 0,
                    hash,
                    e.TryGetProperty("height", out var h) && h.TryGetInt64(out var height) ? height : 0,
                    Text(e, "via") ?? "",
                    Text(e, "status") ?? "",
                    e.TryGetProperty("accepted", out var a) && a.ValueKind == JsonValueKind.True,
                    Text(e, "reason"),
                    Text(e, "from")));
            }
        }

        return new BlockLogPage(
            Text(root, "boot") ?? "",
            root.TryGetProperty("firstSeq", out var f) && f.TryGetInt64(out var first) ? first : 1,
            root.TryGetProperty("lastSeq", out var l) && l.TryGetInt64(out var last) ? last : 0,
            entries);
    }

    /// <summary>GET /consistency (a deep check: the peer replays its whole best chain).</summary>
    public async Task<ConsistencyReport> GetConsistencyAsync(Uri peer, CancellationToken cancellationToken)
    {
        using var document = await GetJsonAsync(new Uri(peer, "consistency"), cancellationToken).ConfigureAwait(false)
            ?? throw new ChaosStepException($"{peer} has no /consistency");
        var root = document.RootElement;
        return new ConsistencyReport(
            root.TryGetProperty("consistent", out var c) && c.ValueKind == JsonValueKind.True,
            root.TryGetProperty("problems", out var p) && p.ValueKind == JsonValueKind.Array
                ? [.. p.EnumerateArray().Take(100).Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText())]
                : ["the answer lists no problems array"],
            root.TryGetProperty("height", out var h) && h.TryGetInt64(out var height) ? height : 0,
            Text(root, "tipHash") ?? "",
            Text(root, "stateRoot") ?? "",
            Text(root, "liveStateRoot") ?? "");
    }

    /// <summary>GET /blocks/{hash}: (known, on the main chain).</summary>
    public async Task<(bool Known, bool OnMainChain)> GetBlockAsync(Uri peer, string hash, CancellationToken cancellationToken)
    {
        using var document = await GetJsonAsync(new Uri(peer, $"blocks/{Uri.EscapeDataString(hash)}"), cancellationToken).ConfigureAwait(false);
        return document is null
            ? (false, false)
            : (true, document.RootElement.TryGetProperty("onMainChain", out var main) && main.ValueKind == JsonValueKind.True);
    }

    /// <summary>POST /mining {"action":"mine","blocks":n}: the blocks mined.</summary>
    public async Task<IReadOnlyList<MinedBlock>> MineAsync(Uri peer, int blocks, CancellationToken cancellationToken)
    {
        using var document = await PostJsonAsync(new Uri(peer, "mining"), $$"""{"action":"mine","blocks":{{blocks}}}""", cancellationToken).ConfigureAwait(false);
        if (!document.RootElement.TryGetProperty("mined", out var mined) || mined.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        return [.. mined.EnumerateArray().Take(10_000).Select(m => new MinedBlock(
            Text(m, "hash") ?? "",
            m.TryGetProperty("height", out var h) && h.TryGetInt64(out var height) ? height : 0,
            m.TryGetProperty("faulty", out var f) && f.ValueKind == JsonValueKind.True,
            m.TryGetProperty("withheld", out var w) && w.ValueKind == JsonValueKind.True))];
    }

    /// <summary>POST /mining start or stop.</summary>
    public async Task SetMiningAsync(Uri peer, bool start, CancellationToken cancellationToken)
    {
        using var _ = await PostJsonAsync(new Uri(peer, "mining"), start ? """{"action":"start"}""" : """{"action":"stop"}""", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /tx with an unsigned contract the peer signs.</summary>
    public async Task SubmitContractAsync(Uri peer, string actionsJson, CancellationToken cancellationToken)
    {
        using var _ = await PostJsonAsync(new Uri(peer, "tx"), $$"""{"actions":{{actionsJson}}}""", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST /faults/{name}.</summary>
    public async Task SetFaultAsync(Uri peer, string name, double share, long skewMs, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["share"] = share, ["skewMs"] = skewMs });
        using var _ = await PostJsonAsync(new Uri(peer, $"faults/{Uri.EscapeDataString(name)}"), body, cancellationToken).ConfigureAwait(false);
    }

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

    private async Task<JsonDocument> PostJsonAsync(Uri uri, string json, CancellationToken cancellationToken)
    {
        using var request = TelemetryPolls.MarkIfPolling(new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(json, Encoding.UTF8, "application/json") });
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<JsonDocument> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
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

        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new ChaosStepException($"{response.RequestMessage?.RequestUri} answered something that is not JSON: {e.Message}", e);
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
