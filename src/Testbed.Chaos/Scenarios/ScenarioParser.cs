using System.Collections.ObjectModel;
using Testbed.Contracts.Settings;
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

        var context = new ScenarioContext(errors, null, null, null);
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
                        errors.Add(new ScenarioError(ScenarioContext.Line(node), scenario.Name, null, null, "name", "another scenario has the same name"));
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
            errors.Add(new ScenarioError(ScenarioContext.Line(node), null, null, null, null, "each scenario must be a mapping with name, peers and steps"));
            return null;
        }

        var name = (map.Children.TryGetValue(new YamlScalarNode("name"), out var n) && n is YamlScalarNode s ? s.Value : null) ?? "";
        var context = new ScenarioContext(errors, name.Length == 0 ? null : name, null, null);
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
        var difficulty = (int)(context.Setting(map, "difficulty_bits", PeerSettings.DifficultyBits) ?? 8);
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
                var step = StepParser.ParseStep(stepList.Children[i], i + 1, context, peerNames, knownTargets);
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
    private static IReadOnlyDictionary<string, IReadOnlyList<string>> DhtBootstrap(YamlMappingNode map, ScenarioContext context, string[] peerNames)
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
}
