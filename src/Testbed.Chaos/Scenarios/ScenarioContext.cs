using System.Globalization;
using Testbed.Contracts.Settings;
using YamlDotNet.RepresentationModel;

namespace Testbed.Chaos.Scenarios;

/// <summary>
/// Where the parser is in scenarios.yaml (scenario, step) and where errors go, with the typed field readers that report a
/// bad value there (line, scenario, step, field), so the scenario and step parsers name every problem the same way.
/// </summary>
internal sealed record ScenarioContext(List<ScenarioError> Errors, string? Scenario, int? Step, string? StepKind)
{
    /// <summary>The line a node starts on, as errors name it.</summary>
    public static int Line(YamlNode node) => (int)node.Start.Line;

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

    /// <summary>A field that sets a peer setting: checked with that setting's range and refused with its message.</summary>
    public long? Setting(YamlMappingNode map, string field, IntegerSetting setting)
    {
        var text = Text(map, field, required: false);
        if (text is null)
        {
            return null;
        }

        if (!setting.TryParse(text, out var value, out var error, option: field))
        {
            Error(Get(map, field)!, field, error);
            return null;
        }

        return value;
    }

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
