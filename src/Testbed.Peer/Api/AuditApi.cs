using System.Diagnostics;
using System.Globalization;
using Testbed.Contracts.Peers;
using Testbed.Peer.Hosting;

namespace Testbed.Peer.Api;

/// <summary>
/// What the chaos checker reads back from a peer beyond /status: <c>GET /blocklog</c> (every block this process loaded from
/// its store, mined, accepted or refused, in order; user API) and <c>GET /consistency</c> (the chain store against the live
/// VM, <see cref="Ledger.Chain.Blockchain.CheckConsistency"/>; a control endpoint, since a deep check replays the whole chain).
/// </summary>
public static class AuditApi
{
    /// <summary>Most block-log entries one answer holds.</summary>
    public const int MaxLogPage = 5000;

    /// <summary>Maps the endpoints on the peer API's groups (so they carry the same caller guards).</summary>
    public static void MapAuditApi(IEndpointRouteBuilder api, IEndpointRouteBuilder control)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(control);
        api.MapGet("/blocklog", GetBlockLog);
        control.MapGet("/consistency", GetConsistency);
    }

    private static IResult GetBlockLog(PeerNode node, string? after, string? max)
    {
        long from = 0;
        if (after is not null && (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out from) || from < 0))
        {
            return Problem(400, $"'after' must be a non-negative sequence number, got '{Clip(after)}'");
        }

        var limit = MaxLogPage;
        if (max is not null && (!int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLogPage))
        {
            return Problem(400, $"'max' must be 1..{MaxLogPage}, got '{Clip(max)}'");
        }

        var log = node.BlockLog;
        var (entries, first) = log.After(from, limit);
        return Results.Json(new BlockLogPage(node.Name, log.Boot, log.StartedAtMs, first, log.LastSeq, entries));
    }

    private static IResult GetConsistency(PeerNode node, string? deep)
    {
        if (deep is not null and not ("true" or "false"))
        {
            return Problem(400, $"'deep' must be true or false, got '{Clip(deep)}'");
        }

        var thorough = deep != "false";
        var clock = Stopwatch.StartNew();
        var problems = node.Chain.CheckConsistency(thorough);
        var (tip, live) = node.Chain.TipAndLiveStateRoot;
        return Results.Json(new ConsistencyReport(
            node.Name, node.BlockLog.Boot, problems.Count == 0, problems, thorough, tip.Height, tip.Hash.ToString(), tip.StateRoot.ToString(), live.ToString(),
            clock.Elapsed.TotalMilliseconds));
    }

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private static IResult Problem(int status, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: ErrorResponses.TitleOf(status));
}
