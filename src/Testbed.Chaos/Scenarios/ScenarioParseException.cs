namespace Testbed.Chaos.Scenarios;

/// <summary>One problem in a scenarios file: where (line, scenario, step, field) and what.</summary>
public sealed record ScenarioError(int Line, string? Scenario, int? Step, string? StepKind, string? Field, string Message)
{
    /// <inheritdoc />
    public override string ToString()
    {
        var where = new List<string>();
        if (Scenario is not null)
        {
            where.Add($"scenario '{Scenario}'");
        }

        if (Step is not null)
        {
            where.Add(StepKind is null ? $"step {Step}" : $"step {Step} ({StepKind})");
        }

        if (Field is not null)
        {
            where.Add($"field '{Field}'");
        }

        return $"line {Line}: {(where.Count == 0 ? "" : string.Join(", ", where) + ": ")}{Message}";
    }
}

/// <summary>A scenarios file that cannot be used; <see cref="Errors"/> names every problem found.</summary>
public sealed class ScenarioParseException(string source, IReadOnlyList<ScenarioError> errors)
    : Exception($"{source} is not a valid scenarios file:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors))
{
    /// <summary>Every problem, in file order.</summary>
    public IReadOnlyList<ScenarioError> Errors { get; } = errors;
}
