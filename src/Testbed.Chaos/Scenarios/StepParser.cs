using Testbed.Chaos.Proxy;
using YamlDotNet.RepresentationModel;

namespace Testbed.Chaos.Scenarios;

/// <summary>Reads one step of a scenario by its kind (mine, partition, toxic, expect, ...) into a <see cref="ScenarioStep"/>, reporting each bad field.</summary>
internal static class StepParser
{
    public static ScenarioStep? ParseStep(YamlNode node, int index, ScenarioContext scenario, string[] peers, string[] targets)
    {
        var context = scenario with { Step = index };
        if (node is not YamlMappingNode map || map.Children.Count != 1 || map.Children.Keys.Single() is not YamlScalarNode { Value: { } kind })
        {
            context.Error(node, null, "a step is a mapping with exactly one key, its kind (mine, partition, expect, ...)");
            return null;
        }

        var body = map.Children.Values.Single();
        context = context with { StepKind = kind };
        var line = ScenarioContext.Line(node);
        switch (kind)
        {
            case "mine":
            {
                var args = context.Mapping(body, ["on", "blocks"]);
                return args is null ? null : new MineStep(index, line, context.Names(args, "on", peers, defaultAll: ["peer-1"]), context.Int(args, "blocks", 1, 1000, required: true) ?? 1);
            }

            case "mining":
            {
                var args = context.Mapping(body, ["on", "action"]);
                if (args is null)
                {
                    return null;
                }

                var action = context.Text(args, "action", required: true);
                if (action is not null and not ("start" or "stop"))
                {
                    context.Error(args, "action", $"must be start or stop, not '{action}'");
                }

                return new MiningStep(index, line, context.Names(args, "on", peers, defaultAll: peers), action == "start");
            }

            case "transactions":
            {
                var args = context.Mapping(body, ["on", "count"]);
                return args is null ? null : new TransactionsStep(index, line, context.Names(args, "on", peers, defaultAll: peers), context.Int(args, "count", 1, 10_000, required: true) ?? 1);
            }

            case "partition":
                return ParsePartition(body, index, line, context, peers);

            case "heal":
                return context.Mapping(body, []) is null ? null : new HealStep(index, line);

            case "clear_toxics":
                return context.Mapping(body, []) is null ? null : new ClearToxicsStep(index, line);

            case "toxic":
                return ParseToxic(body, index, line, context, peers);

            case "kill" or "pause" or "resume" or "restart" or "stop" or "start":
            {
                // Short forms: `kill: peer-2` and `kill: [peer-2, peer-3]`; long form: `kill: { on: [...] }`.
                IReadOnlyList<string> on = body is YamlMappingNode args
                    ? context.Mapping(args, ["on"]) is null ? [] : context.Names(args, "on", targets)
                    : context.NamesOf(body, "on", targets);
                return on.Count == 0 ? null : new ProcessStep(index, line, kind, on);
            }

            case "fault":
            {
                var args = context.Mapping(body, ["on", "name", "share", "skew"]);
                if (args is null)
                {
                    return null;
                }

                var name = context.Text(args, "name", required: true);
                if (name is not null && !PeerFaultStep.Names.Contains(name))
                {
                    context.Error(args, "name", $"unknown fault '{name}'; known: {string.Join(", ", PeerFaultStep.Names)}");
                }

                var skew = context.Get(args, "skew") is null ? TimeSpan.Zero : context.SignedDuration(args, "skew");
                if (name == "clock-skew" && context.Get(args, "skew") is null)
                {
                    context.Error(args, "skew", "clock-skew needs a skew (e.g. 30s or -30s)");
                }

                return new PeerFaultStep(index, line, context.Names(args, "on", peers), name ?? "", context.Double(args, "share", 0, 1) ?? 1.0, (long)skew.TotalMilliseconds);
            }

            case "clear_fault":
            {
                var args = context.Mapping(body, ["on", "name"]);
                if (args is null)
                {
                    return null;
                }

                var name = context.Text(args, "name", required: true);
                if (name is not null && !PeerFaultStep.Names.Contains(name))
                {
                    context.Error(args, "name", $"unknown fault '{name}'; known: {string.Join(", ", PeerFaultStep.Names)}");
                }

                return new ClearFaultStep(index, line, context.Names(args, "on", peers), name ?? "");
            }

            case "wait":
            {
                if (body is YamlScalarNode)
                {
                    return context.DurationOf(body, "duration") is { } d ? new WaitStep(index, line, d) : null;
                }

                var args = context.Mapping(body, ["duration"]);
                return args is null ? null : context.Duration(args, "duration", required: true) is { } duration ? new WaitStep(index, line, duration) : null;
            }

            case "expect":
                return ParseExpect(body, index, line, context, peers);

            default:
                context.Error(node, null, $"unknown step kind '{kind}'; known: mine, mining, transactions, partition, heal, toxic, clear_toxics, kill, pause, resume, restart, stop, start, fault, clear_fault, wait, expect");
                return null;
        }
    }

    private static PartitionStep? ParsePartition(YamlNode body, int index, int line, ScenarioContext context, string[] peers)
    {
        YamlNode? groupsNode = body;
        var bothWays = true;
        if (body is YamlMappingNode args)
        {
            if (context.Mapping(args, ["groups", "direction"]) is null)
            {
                return null;
            }

            groupsNode = context.Get(args, "groups");
            var direction = context.Text(args, "direction", required: false) ?? "both";
            if (direction is not ("both" or "one-way"))
            {
                context.Error(args, "direction", $"must be both or one-way (from the first group to the others), not '{direction}'");
            }

            bothWays = direction == "both";
        }

        if (groupsNode is not YamlSequenceNode list || list.Children.Count < 2)
        {
            context.Error(groupsNode ?? body, "groups", "a partition needs at least two groups of peers, e.g. [[peer-1, peer-2], [peer-3]]");
            return null;
        }

        var groups = list.Children.Select(g => context.NamesOf(g, "groups", peers)).ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in groups.SelectMany(g => g))
        {
            if (!seen.Add(name))
            {
                context.Error(list, "groups", $"'{name}' is in more than one group");
            }
        }

        return new PartitionStep(index, line, groups, bothWays);
    }

    private static ToxicStep? ParseToxic(YamlNode body, int index, int line, ScenarioContext context, string[] peers)
    {
        var args = context.Mapping(body, ["from", "to", "kind", "both_ways", "latency", "jitter", "rate", "close_after", "after", "average_size", "size_variation", "delay", "bytes"]);
        if (args is null)
        {
            return null;
        }

        var from = context.Names(args, "from", peers, defaultAll: peers);
        var to = context.Names(args, "to", peers, defaultAll: peers);
        var bothWays = context.Bool(args, "both_ways") ?? false;
        var kind = context.Text(args, "kind", required: true);
        LinkToxic? toxic = kind switch
        {
            null => null,
            "latency" => new LatencyToxic(context.Duration(args, "latency", required: true) ?? TimeSpan.Zero, context.Duration(args, "jitter", required: false) ?? TimeSpan.Zero),
            "bandwidth" => new BandwidthToxic(context.Long(args, "rate", 1, 1L << 32, required: true) ?? 1),
            "stall" => new StallToxic(context.Duration(args, "close_after", required: false)),
            "reset" => new ResetToxic(context.Duration(args, "after", required: false) ?? TimeSpan.Zero),
            "slicer" => new SlicerToxic(
                context.Int(args, "average_size", 1, 1 << 20, required: true) ?? 1,
                context.Int(args, "size_variation", 0, 1 << 20, required: false) ?? 0,
                context.Duration(args, "delay", required: false) ?? TimeSpan.Zero),
            "limit_data" => new LimitDataToxic(context.Long(args, "bytes", 0, long.MaxValue, required: true) ?? 0),
            _ => null,
        };
        if (kind is not null && toxic is null)
        {
            context.Error(args, "kind", $"unknown toxic '{kind}'; known: latency, bandwidth, stall, reset, slicer, limit_data");
        }

        return toxic is null ? null : new ToxicStep(index, line, from, to, toxic, bothWays);
    }

    private static ExpectStep? ParseExpect(YamlNode body, int index, int line, ScenarioContext context, string[] peers)
    {
        var args = context.Mapping(body, ["converged", "within", "height_at_least", "reorgs_at_least", "rejected_at_least", "banned_at_least", "mempool_at_most", "invalid_rejected", "connected_at_least", "exclude"]);
        if (args is null)
        {
            return null;
        }

        var expectation = new Expectation(
            context.Bool(args, "converged"),
            context.Duration(args, "within", required: false) ?? TimeSpan.FromSeconds(30),
            context.Long(args, "height_at_least", 0, long.MaxValue, required: false),
            context.Int(args, "reorgs_at_least", 0, 100_000, required: false),
            context.Int(args, "rejected_at_least", 0, 100_000, required: false),
            context.Int(args, "banned_at_least", 0, 100_000, required: false),
            context.Int(args, "mempool_at_most", 0, 1_000_000, required: false),
            context.Get(args, "exclude") is null ? [] : context.Names(args, "exclude", peers),
            context.Bool(args, "invalid_rejected"),
            context.Int(args, "connected_at_least", 0, ScenarioParser.MaxPeers, required: false));
        if (expectation is { Converged: null, HeightAtLeast: null, ReorgsAtLeast: null, RejectedAtLeast: null, BannedAtLeast: null, MempoolAtMost: null, InvalidRejected: null, ConnectedAtLeast: null })
        {
            context.Error(args, null, "an expectation needs something to check: converged, height_at_least, reorgs_at_least, rejected_at_least, banned_at_least, mempool_at_most, invalid_rejected or connected_at_least");
        }

        if (expectation.Converged == false)
        {
            context.Error(args, "converged", "only 'converged: true' can be expected");
        }

        if (expectation.InvalidRejected == false)
        {
            context.Error(args, "invalid_rejected", "only 'invalid_rejected: true' can be expected");
        }

        return new ExpectStep(index, line, expectation);
    }
}
