using System.Globalization;
using System.Text;
using System.Text.Json;
using Testbed.Contracts.Settings;
using Testbed.Contracts;
using Testbed.Contracts.Peers;
using Testbed.Ledger;
using Testbed.Ledger.Transactions;
using Testbed.Peer.Hosting;

namespace Testbed.Peer.Api;

/// <summary>
/// The peer's HTTP API: status, chain, blocks, state, timings and transactions (user API: local callers only, see
/// <see cref="ControlCallers.RequireLocalCaller{TBuilder}"/>), mining and fault hooks (control surface: local callers with the
/// run's secret, <see cref="ControlCallers.RequireControlCaller{TBuilder}"/>). Every body has its limit declared, enforced
/// before the handler reads it; every error is a problem-details body.
/// </summary>
public static class PeerApi
{
    /// <summary>Most blocks one /chain answer lists.</summary>
    public const int MaxChainPage = 1000;

    /// <summary>Largest body of <c>POST /tx</c>: a signed transaction token (16 KiB) with room for JSON whitespace.</summary>
    public const int MaxTransactionBodyBytes = 2 * SignedTransaction.MaxTokenLength;

    /// <summary>Largest body of a control request (<c>POST /mining</c>, <c>POST /faults/{name}</c>).</summary>
    public const int MaxControlBodyBytes = 1024;

    private static readonly Lock NonceGate = new();

    /// <summary>Maps every endpoint.</summary>
    public static WebApplication MapPeerApi(this WebApplication app)
    {
        var api = app.MapGroup(string.Empty).RequireLocalCaller();
        api.MapGet("/status", (PeerNode node) => Results.Json(StatusOf(node)));
        api.MapGet("/chain", GetChain);
        api.MapGet("/blocks/{hash}", GetBlock);
        api.MapGet("/state", (PeerNode node) => Results.Text(node.Chain.ExportStateJson(), "application/json"));
        api.MapGet("/timings", GetTimings);
        api.MapPost("/tx", PostTransactionAsync).WithRequestBodyLimit(MaxTransactionBodyBytes);

        var control = api.MapGroup(string.Empty).RequireControlCaller().WithRequestBodyLimit(MaxControlBodyBytes);
        control.MapPost("/mining", PostMiningAsync);
        AuditApi.MapAuditApi(api, control);
        if (app.Configuration.GetValue<bool>(PeerSettings.FaultsEnabled.Key))
        {
            control.MapGet("/faults", (PeerNode node) => Results.Json(node.Faults.Active));
            control.MapPost("/faults/{name}", PostFaultAsync);
            control.MapDelete("/faults/{name}", (string name, PeerNode node) =>
                node.Faults.Clear(name) ? Results.Json(node.Faults.Active) : Problem(404, $"fault '{name}' is not active"));
        }
        else
        {
            // Named, not a bare 404: the caller learns why the hooks are not there.
            control.Map("/faults/{**rest}", () => Problem(404, $"fault hooks are disabled on this peer (set {PeerSettings.FaultsEnabled.Key}=true)"));
        }

        return app;
    }

    /// <summary>The /status document.</summary>
    public static PeerStatus StatusOf(PeerNode node)
    {
        var (tip, liveStateRoot) = node.Chain.TipAndLiveStateRoot;
        return new PeerStatus(
            Peer: node.Name,
            Address: node.Wallet.Address,
            Ready: node.IsReady,
            Height: tip.Height,
            TipHash: tip.Hash.ToString(),
            CumulativeWork: tip.CumulativeWork.ToString(CultureInfo.InvariantCulture),
            StateRoot: tip.StateRoot.ToString(),
            // The live VM's root next to the tip header's (read under one lock): they differ only when the state drifted.
            LiveStateRoot: liveStateRoot.ToString(),
            StateRootsAgree: liveStateRoot == tip.StateRoot,
            DifficultyBits: tip.DifficultyBits,
            Genesis: node.Chain.GenesisHash.ToString(),
            Swarm: node.Swarm.LocalEndPoint?.ToString(),
            AdvertisedSwarm: node.Swarm.AdvertisedEndPoint?.ToString(),
            TorrentEndPoint: node.Torrents.LocalEndPoint?.ToString(),
            Tracker: node.Membership?.Tracker.ToString(),
            TrackerError: node.Membership?.LastError,
            Dht: node.Dht is { } dht ? new DhtStatus(dht.LocalEndPoint.ToString(), dht.RoutingTableCount, dht.Lookups, dht.PeersFound) : null,
            ConnectedPeers: [.. node.Swarm.Peers
                .Select(p => new ConnectedPeer(p.Name, p.PeerId, p.SwarmEndPoint?.ToString(), p.ClaimedHeight))
                .OrderBy(p => p.Name, StringComparer.Ordinal)],
            Banned: [.. node.Swarm.Banned.Select(b => new BannedPeer(b.Key, b.Value))],
            Mining: node.Miner.Status,
            Mempool: node.Mempool.Count,
            BlocksRejected: node.Propagator.Rejected,
            Sync: new SyncStatus(node.Sync.Running, node.Sync.SegmentsDownloaded, node.Sync.BlocksSynced, node.Sync.ApplyTime.TotalSeconds, node.Sync.LastError),
            FaultsEnabled: node.Settings.Faults.Enabled,
            ActiveFaults: node.Faults.Active,
            // For the chaos history: this process (a new one after every restart), its block log's position, deliberate defects.
            Boot: node.BlockLog.Boot,
            BlockLogSeq: node.BlockLog.LastSeq,
            Broken: [.. node.Broken.Select(m => m.Name)]);
    }

    private static IResult GetChain(PeerNode node, string? from, string? count)
    {
        long start = 0;
        if (from is not null && (!long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out start) || start < 0))
        {
            return Problem(400, $"'from' must be a non-negative integer height, got '{from}'");
        }

        var limit = 100;
        if (count is not null && (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxChainPage))
        {
            return Problem(400, $"'count' must be 1..{MaxChainPage}, got '{count}'");
        }

        var blocks = node.Chain.MainChain(start, limit).Select(h => HeaderView(h, node.Chain.GetHeader(h)!)).ToList();
        return Results.Json(new { from = start, tipHeight = node.Chain.Tip.Height, blocks });
    }

    private static IResult GetBlock(PeerNode node, string hash)
    {
        if (!Hash256.TryParse(hash, out var h))
        {
            return Problem(400, $"'{hash}' is not a block hash (64 lowercase hex digits)");
        }

        if (node.Chain.GetHeader(h) is not { } header)
        {
            return Problem(404, $"block {hash} is not known to {node.Name}");
        }

        var token = node.Chain.GetBlockToken(h);
        var onMain = node.Chain.MainChain((long)header.Height, 1).FirstOrDefault() == h;
        return Results.Json(new { header = HeaderView(h, header), onMainChain = onMain, token });
    }

    private static IResult GetTimings(PeerNode node, string? since)
    {
        long sinceMs = 0;
        if (since is not null && !long.TryParse(since, NumberStyles.None, CultureInfo.InvariantCulture, out sinceMs))
        {
            return Problem(400, $"'since' must be unix milliseconds, got '{since}'");
        }

        return Results.Json(new { peer = node.Name, blocks = node.Timings.Since(sinceMs) });
    }

    private static async Task<IResult> PostTransactionAsync(HttpContext http, PeerNode node)
    {
        using var body = await RequestBodies.ReadJsonAsync(http, MaxTransactionBodyBytes).ConfigureAwait(false);
        var root = body.RootElement;
        SignedTransaction transaction;
        try
        {
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("token", out var token))
            {
                transaction = SignedTransaction.Parse(RequestBodies.GetString(token, "token"));
            }
            else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("actions", out var actions) && actions.ValueKind == JsonValueKind.Array)
            {
                // The size bound comes before any work: the signed token carries the actions base64url-encoded (4/3 larger).
                var actionsJson = actions.GetRawText();
                var encoded = (Encoding.UTF8.GetByteCount(actionsJson) + 2L) / 3 * 4;
                if (encoded > SignedTransaction.MaxTokenLength)
                {
                    return Problem(400, $"transaction rejected: the actions would make a token of more than {SignedTransaction.MaxTokenLength} bytes (the limit of a signed transaction)", nameof(TransactionRejectionReason.Oversized));
                }

                // An unsigned contract: signed here with the peer's wallet, at its next free nonce.
                lock (NonceGate)
                {
                    var address = node.Wallet.Address;
                    var pending = node.Mempool.Ordered().Where(t => t.Sender == address).Select(t => t.Nonce + 1).DefaultIfEmpty(0).Max();
                    var nonce = Math.Max(node.Chain.NextNonce(address), pending);
                    transaction = SignedTransaction.Create(node.Wallet, nonce, actionsJson);
                    var added = node.Gossip.Submit(transaction);
                    return TransactionResult(added, transaction);
                }
            }
            else
            {
                return Problem(400, "the body must be {\"token\": \"<signed transaction JWS>\"} or {\"actions\": [...]} (an unsigned contract the peer signs)");
            }
        }
        catch (TransactionRejectedException e)
        {
            return Problem(400, $"transaction rejected: {e.Message}", e.Reason.ToString());
        }

        return TransactionResult(node.Gossip.Submit(transaction), transaction);
    }

    private static IResult TransactionResult(Ledger.Mempool.MempoolAddResult added, SignedTransaction transaction) =>
        added.Accepted
            ? Results.Json(new TransactionAccepted(transaction.Id.ToString(), transaction.Sender, transaction.Nonce), statusCode: 202)
            : Problem(400, $"transaction rejected: {added.Reason}: {added.Detail}", added.Reason?.ToString());

    private static async Task<IResult> PostMiningAsync(HttpContext http, PeerNode node)
    {
        MiningRequest? request;
        using (var body = await RequestBodies.ReadJsonAsync(http, MaxControlBodyBytes).ConfigureAwait(false))
        {
            try
            {
                request = body.Deserialize<MiningRequest>(ContractJson.Options);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                return Problem(400, $"the body is not a mining request {{\"action\": \"start|stop|mine\", \"blocks\": n}}: {e.Message}");
            }
        }

        switch (request?.Action)
        {
            case "start":
                node.Miner.Start();
                return Results.Json(node.Miner.Status);
            case "stop":
                await node.Miner.StopAsync().ConfigureAwait(false);
                return Results.Json(node.Miner.Status);
            case "mine":
                if (request.Blocks is not { } n || n is < 1 or > 10_000)
                {
                    return Problem(400, "'blocks' must be 1..10000 for action 'mine'");
                }

                var mined = await node.Miner.MineAsync(n, http.RequestAborted).ConfigureAwait(false);
                return Results.Json(new MineResult(mined, node.Miner.Status));
            default:
                return Problem(400, $"'action' must be start, stop or mine, got '{request?.Action}'");
        }
    }

    private static async Task<IResult> PostFaultAsync(HttpContext http, string name, PeerNode node)
    {
        FaultSettings settings = new();
        if (RequestBodies.HasBody(http.Request))
        {
            using var body = await RequestBodies.ReadJsonAsync(http, MaxControlBodyBytes).ConfigureAwait(false);
            try
            {
                settings = body.Deserialize<FaultSettings>(ContractJson.Options) ?? new();
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                return Problem(400, $"the body is not fault settings {{\"share\": 0..1, \"skewMs\": n}}: {e.Message}");
            }
        }

        try
        {
            node.Faults.Set(name, settings);
        }
        catch (ArgumentException e)
        {
            return Problem(400, e.Message);
        }

        return Results.Json(node.Faults.Active);
    }

    private static object HeaderView(Hash256 hash, Ledger.Blocks.BlockHeader header) => new
    {
        hash = hash.ToString(),
        height = (long)header.Height,
        previousHash = header.PreviousHash.ToString(),
        timestampMs = header.TimestampMs,
        difficultyBits = header.DifficultyBits,
        transactionsRoot = header.TransactionsRoot.ToString(),
        stateRoot = header.StateRoot.ToString(),
        miner = header.Miner.ToString(),
        nonce = header.Nonce,
    };

    private static IResult Problem(int status, string detail, string? type = null) =>
        Results.Problem(detail: detail, statusCode: status, title: ErrorResponses.TitleOf(status),
            extensions: type is null ? null : new Dictionary<string, object?> { ["reason"] = type });
}
