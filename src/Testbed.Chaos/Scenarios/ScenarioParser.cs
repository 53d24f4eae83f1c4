using System.Collections.ObjectModel;
using System.Globalization;
using Testbed.Chaos.Proxy;
using Testbed.IO;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Testbed.Chaos.Scenarios;

/// <summary>
/// Reads scenarios.yaml (YamlDotNet's representation model, so every error carries its line) and checks it completely:
/// a bad file gets one <see cref="ScenarioParseException"/> naming each problem's scenario, step index and field.
/// </summary>
public static class ScenarioParser
{
    /// <summary>Largest scenarios file read.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    /// <summary>Most scenarios in one file, steps in one scenario, peers in one topology.</summary>
    public const int MaxScenarios = 200, MaxSteps = 500, MaxPeers = 32;

    private static readonly string[] ScenarioFields = ["name", "description", "peers", "difficulty_bits", "late_joiners", "dht_bootstrap", "mining_interval", "timeout", "steps"];

    /// <summary>Reads and parses a file: a regular file of at most <see cref="MaxFileBytes"/>, checked before it is read.</summary>
    public static ScenarioFile Load(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new FileNotFoundException($"scenarios file {path} does not exist", path);
        }

        string text;
        try
        {
            // A directory, a device or a FIFO is refused by kind; a larger file by its length, before a byte is read.
            text = InputFiles.ReadAllText(path, MaxFileBytes, "scenarios file");
        }
        catch (InputFileException e)
        {
            throw new ScenarioParseException(path, [new ScenarioError(1, null, null, null, null, e.Message)]);
        }

        return Parse(text, path);
    }

    /// <summary>Parses scenarios.yaml text; <paramref name="source"/> names it in errors.</summary>
    public static ScenarioFile Parse(string yaml, string source = "scenarios.yaml")
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var errors = new List<ScenarioError>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ScenarioParseException(source, [new ScenarioError(YamlErrorLine(yaml, e), null, null, null, null, $"not valid YAML: {e.Message}")]);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet fails this way, not with a YamlException, on some broken input (an unterminated flow collection at
            // the end, a key it cannot represent): still the file's fault, reported at the last line it could read.
            throw new ScenarioParseException(source, [new ScenarioError(LastReadableLine(yaml), null, null, null, null, "not valid YAML: an unterminated [ ], { } or quote, or a key that is not a plain value")]);
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ScenarioParseException(source, [new ScenarioError(1, null, null, null, null, "the file must be one YAML mapping with a 'scenarios' list")]);
        }

        var context = new Context(errors, null, null, null);
        context.CheckFields(root, ["scenarios"]);
        var scenarios = new List<Scenario>();
        if (context.Get(root, "scenarios") is not YamlSequenceNode list)
        {
            context.Error(root, "scenarios", "a list of scenarios is required");
        }
        else if (list.Children.Count > MaxScenarios)
        {
            context.Error(list, "scenarios", $"{list.Children.Count} scenarios; at most {MaxScenarios}");
        }
        else
        {
            foreach (var node in list.Children)
            {
                if (ParseScenario(node, errors) is { } scenario)
                {
                    if (scenarios.Any(s => s.Name == scenario.Name))
                    {
                        errors.Add(new ScenarioError(Line(node), scenario.Name, null, null, "name", "another scenario has the same name"));
                    }

                    scenarios.Add(scenario);
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new ScenarioParseException(source, errors);
        }

        return new ScenarioFile(scenarios);
    }

    private static Scenario? ParseScenario(YamlNode node, List<ScenarioError> errors)
    {
        if (node is not YamlMappingNode map)
        {
            errors.Add(new ScenarioError(Line(node), null, null, null, null, "each scenario must be a mapping with name, peers and steps"));
            return null;
        }

        var name = (map.Children.TryGetValue(new YamlScalarNode("name"), out var n) && n is YamlScalarNode s ? s.Value : null) ?? "";
        var context = new Context(errors, name.Length == 0 ? null : name, null, null);
        if (name.Length == 0)
        {
            context.Error(map, "name", "a scenario needs a name");
        }
        else if (name.Length > 64 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            context.Error(map, "name", $"'{name}' must be lowercase letters, digits and hyphens, at most 64");
        }

        context.CheckFields(map, ScenarioFields);
        var peers = context.Int(map, "peers", 1, MaxPeers, required: true) ?? 1;
        var difficulty = context.Int(map, "difficulty_bits", 1, 32, required: false) ?? 8;
        var timeout = context.Duration(map, "timeout", required: false) ?? TimeSpan.FromMinutes(3);
        var description = context.Text(map, "description", required: false) ?? "";
        var miningInterval = context.Duration(map, "mining_interval", required: false) ?? TimeSpan.FromMilliseconds(500);
        var peerNames = Enumerable.Range(1, peers).Select(i => $"peer-{i}").ToArray();
        var knownTargets = peerNames.Append("tracker").ToArray();
        var lateJoiners = map.Children.ContainsKey(new YamlScalarNode("late_joiners"))
            ? context.Names(map, "late_joiners", peerNames)
            : [];
        var dhtBootstrap = DhtBootstrap(map, context, peerNames);

        var steps = new List<ScenarioStep>();
        if (context.Get(map, "steps") is not YamlSequenceNode stepList || stepList.Children.Count == 0)
        {
            context.Error(map, "steps", "a non-empty list of steps is required");
        }
        else if (stepList.Children.Count > MaxSteps)
        {
            context.Error(stepList, "steps", $"{stepList.Children.Count} steps; at most {MaxSteps}");
        }
        else
        {
            for (var i = 0; i < stepList.Children.Count; i++)
            {
                var step = ParseStep(stepList.Children[i], i + 1, context, peerNames, knownTargets);
                if (step is not null)
                {
                    steps.Add(step);
                }
            }
        }

        return new Scenario(name, description, new Topology(peers, difficulty, lateJoiners, miningInterval) { DhtBootstrap = dhtBootstrap }, steps, timeout);
    }

    /// <summary>
    /// <c>dht_bootstrap: { peer-4: [peer-1] }</c>: the DHT nodes a peer starts knowing, by peer name (a peer never names
    /// itself). Absent: none; peers then learn DHT nodes from the swarm peers the tracker lists.
    /// </summary>
    private static IReadOnlyDictionary<string, IReadOnlyList<string>> DhtBootstrap(YamlMappingNode map, Context context, string[] peerNames)
    {
        var bootstrap = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        switch (context.Get(map, "dht_bootstrap"))
        {
            case null:
                break;
            case YamlMappingNode entries:
                foreach (var (key, value) in entries.Children)
                {
                    if (key is not YamlScalarNode { Value: { } peer } || !peerNames.Contains(peer))
                    {
                        context.Error(key, "dht_bootstrap", $"unknown peer '{(key as YamlScalarNode)?.Value}'; this topology has {string.Join(", ", peerNames)}");
                        continue;
                    }

                    var nodes = context.NamesOf(value, "dht_bootstrap", peerNames);
                    if (nodes.Contains(peer))
                    {
                        context.Error(value, "dht_bootstrap", $"{peer} cannot bootstrap from itself");
                        continue;
                    }

                    bootstrap[peer] = nodes;
                }

                break;
            case var other:
                context.Error(other, "dht_bootstrap", "must map a peer to the peers whose DHT nodes it starts knowing, e.g. { peer-4: [peer-1] }");
                break;
        }

        // The shared empty map keeps topologies without the field equal as records.
        return bootstrap.Count == 0 ? ReadOnlyDictionary<string, IReadOnlyList<string>>.Empty : bootstrap;
    }

    private static ScenarioStep? ParseStep(YamlNode node, int index, Context scenario, string[] peers, string[] targets)
    {
        var context = scenario with { Step = index };
        if (node is not YamlMappingNode map || map.Children.Count != 1 || map.Children.Keys.Single() is not YamlScalarNode { Value: { } kind })
        {
            context.Error(node, null, "a step is a mapping with exactly one key, its kind (mine, partition, expect, ...)");
            return null;
        }

        var body = map.Children.Values.Single();
        context = context with { StepKind = kind };
        var line = Line(node);
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

    private static PartitionStep? ParsePartition(YamlNode body, int index, int line, Context context, string[] peers)
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

    private static ToxicStep? ParseToxic(YamlNode body, int index, int line, Context context, string[] peers)
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

    private static ExpectStep? ParseExpect(YamlNode body, int index, int line, Context context, string[] peers)
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
            context.Int(args, "connected_at_least", 0, MaxPeers, required: false));
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

    private static int Line(YamlNode node) => (int)node.Start.Line;

    /// <summary>
    /// The line a YAML error is on. YamlDotNet places some errors at the start of the enclosing node (a tab indenting line 15
    /// of a mapping that starts on line 1 is reported at line 1), so a tab error is located here by the first line whose
    /// indentation holds a tab; other errors take the later of the exception's two positions.
    /// </summary>
    private static int YamlErrorLine(string yaml, YamlException error)
    {
        if (error.Message.Contains("tab", StringComparison.OrdinalIgnoreCase))
        {
            var lines = yaml.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var indentation = lines[i][..(lines[i].Length - lines[i].TrimStart(' ', '\t').Length)];
                if (indentation.Contains('\t', StringComparison.Ordinal) && lines[i].Trim().Length > 0)
                {
                    return i + 1;
                }
            }
        }

        // An error at the end of the input is on the last line, not one past it.
        return (int)Math.Min(Math.Max(error.Start.Line, error.End.Line), Math.Max(1, LineCount(yaml)));
    }

    /// <summary>The line of the last YAML event the low-level parser reads before it fails (or the last line).</summary>
    private static int LastReadableLine(string yaml)
    {
        var line = 1L;
        try
        {
            var parser = new Parser(new StringReader(yaml));
            while (parser.MoveNext())
            {
                line = parser.Current!.End.Line;
            }
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException or ArgumentException)
        {
        }

        return (int)Math.Clamp(line, 1, Math.Max(1, LineCount(yaml)));
    }

    private static int LineCount(string text) => text.Count(c => c == '\n') + (text.EndsWith('\n') ? 0 : 1);

    /// <summary>Where we are (scenario, step) and where errors go.</summary>
    private sealed record Context(List<ScenarioError> Errors, string? Scenario, int? Step, string? StepKind)
    {
        public void Error(YamlNode node, string? field, string message) =>
            Errors.Add(new ScenarioError(Line(node), Scenario, Step, StepKind, field, message));

        public YamlNode? Get(YamlMappingNode map, string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

        public void CheckFields(YamlMappingNode map, IReadOnlyCollection<string> allowed)
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? "?";
                if (!allowed.Contains(name))
                {
                    Error(key, name, allowed.Count == 0 ? "unknown field; this step takes none" : $"unknown field; known: {string.Join(", ", allowed)}");
                }
            }
        }

        /// <summary>The step's arguments as a mapping (an empty value counts as an empty mapping), checking the field names.</summary>
        public YamlMappingNode? Mapping(YamlNode body, IReadOnlyCollection<string> allowed)
        {
            if (body is YamlScalarNode { Value: null or "" })
            {
                return new YamlMappingNode();
            }

            if (body is not YamlMappingNode map)
            {
                Error(body, null, allowed.Count == 0 ? "takes no arguments: write {}" : $"arguments must be a mapping with {string.Join(", ", allowed)}");
                return null;
            }

            CheckFields(map, allowed);
            return map;
        }

        public string? Text(YamlMappingNode map, string field, bool required)
        {
            switch (Get(map, field))
            {
                case null:
                    if (required)
                    {
                        Error(map, field, "is required");
                    }

                    return null;
                case YamlScalarNode { Value: { Length: > 0 and <= 4096 } value }:
                    return value;
                case var other:
                    Error(other, field, "must be a non-empty text of at most 4096 characters");
                    return null;
            }
        }

        public long? Long(YamlMappingNode map, string field, long min, long max, bool required)
        {
            var text = Text(map, field, required);
            if (text is null)
            {
                return null;
            }

            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                Error(Get(map, field)!, field, $"must be a whole number in {min}..{max}, not '{text}'");
                return null;
            }

            return value;
        }

        public int? Int(YamlMappingNode map, string field, int min, int max, bool required) => (int?)Long(map, field, min, max, required);

        public double? Double(YamlMappingNode map, string field, double min, double max)
        {
            var text = Text(map, field, required: false);
            if (text is null)
            {
                return null;
            }

            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value >= min && value <= max))
            {
                Error(Get(map, field)!, field, $"must be a number in {min}..{max}, not '{text}'");
                return null;
            }

            return value;
        }

        public bool? Bool(YamlMappingNode map, string field)
        {
            var text = Text(map, field, required: false);
            switch (text)
            {
                case null:
                    return null;
                case "true":
                    return true;
                case "false":
                    return false;
                default:
                    Error(Get(map, field)!, field, $"must be true or false, not '{text}'");
                    return null;
            }
        }

        public TimeSpan? Duration(YamlMappingNode map, string field, bool required)
        {
            var node = Get(map, field);
            if (node is null)
            {
                if (required)
                {
                    Error(map, field, "is required");
                }

                return null;
            }

            return DurationOf(node, field);
        }

        public TimeSpan? DurationOf(YamlNode node, string field)
        {
            if (node is YamlScalarNode { Value: { } text } && DurationText.TryParse(text, out var duration))
            {
                return duration;
            }

            Error(node, field, $"must be a duration such as 500ms, 20s or 2m (at most {DurationText.Format(DurationText.Max)}), not '{(node as YamlScalarNode)?.Value ?? node.NodeType.ToString()}'");
            return null;
        }

        public TimeSpan SignedDuration(YamlMappingNode map, string field)
        {
            var node = Get(map, field)!;
            if (node is YamlScalarNode { Value: ['-', .. var rest] } && DurationText.TryParse(rest, out var negative))
            {
                return -negative;
            }

            return DurationOf(node, field) ?? TimeSpan.Zero;
        }

        /// <summary>A list of names (or one name) under <paramref name="field"/>, each one of <paramref name="known"/>; <paramref name="defaultAll"/> when absent.</summary>
        public IReadOnlyList<string> Names(YamlMappingNode map, string field, IReadOnlyList<string> known, IReadOnlyList<string>? defaultAll = null)
        {
            var node = Get(map, field);
            if (node is null)
            {
                if (defaultAll is null)
                {
                    Error(map, field, "is required");
                    return [];
                }

                return defaultAll;
            }

            return NamesOf(node, field, known);
        }

        public IReadOnlyList<string> NamesOf(YamlNode node, string field, IReadOnlyList<string> known)
        {
            var items = node switch
            {
                YamlScalarNode scalar => [scalar],
                YamlSequenceNode sequence => sequence.Children.ToList(),
                _ => [],
            };
            if (items.Count == 0)
            {
                Error(node, field, "must name at least one target");
                return [];
            }

            var names = new List<string>();
            foreach (var item in items)
            {
                var name = (item as YamlScalarNode)?.Value;
                if (name == "*" && ReferenceEquals(item, items[0]) && items.Count == 1)
                {
                    return [.. known.Where(k => k != "tracker")];
                }

                if (name is null || !known.Contains(name))
                {
                    Error(item, field, $"unknown target '{name}'; this topology has {string.Join(", ", known)}");
                    continue;
                }

                if (!names.Contains(name))
                {
                    names.Add(name);
                }
            }

            return names;
        }
    }
}
