using System.CommandLine;
using System.Text.Json;

namespace Testbed.Bench.Measurement;

/// <summary>
/// The options the benches share, one set per command, declared and checked here: --rounds and --json (every bench),
/// --seconds (a bench that times its samples) and whole-number options with a range, listed among the bench's own
/// options where its help shows them; and the action every bench runs: bind the parsed options into the bench's settings,
/// refuse unusable ones with one line (the options declared here first, in their order, then the bench's own check, then
/// --rounds), run the bench and print its result or write it as JSON (<see cref="BenchFigures.RunAsync"/>: the exit codes).
/// </summary>
public sealed class BenchOptions
{
    private readonly List<Func<ParseResult, string?>> _checks = [];
    private Option<double>? _sampleSeconds;

    /// <summary>`--rounds N`, checked with <see cref="Interleaved.CheckRounds"/>.</summary>
    public Option<int> Rounds { get; } = Interleaved.RoundsOption();

    /// <summary>`--json`: the result as one JSON object instead of the text.</summary>
    public Option<bool> Json { get; } = BenchFigures.JsonOption();

    /// <summary>`--seconds`, the measuring time of each sample of a bench that times its samples: (0, 600] seconds, fractions allowed.</summary>
    public Option<double> SampleSeconds(string description, double defaultSeconds)
    {
        var option = new Option<double>("--seconds") { Description = description, DefaultValueFactory = _ => defaultSeconds };
        _checks.Add(parseResult => parseResult.GetValue(option) is > 0 and <= 600 ? null : "error: --seconds must be in (0, 600]");
        return _sampleSeconds = option;
    }

    /// <summary>A whole-number option in <paramref name="min"/>..<paramref name="max"/>; out of range: "error: <paramref name="name"/> must be in min..max".</summary>
    public Option<int> Bounded(string name, string description, int min, int max, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        _checks.Add(parseResult => parseResult.GetValue(option) is var value && value >= min && value <= max ? null : $"error: {name} must be in {min}..{max}");
        return option;
    }

    /// <summary>
    /// Sets <paramref name="command"/>'s action: <paramref name="bind"/> the parsed options; refuse them (exit 2) when
    /// an option declared here, <paramref name="check"/>, --rounds or <paramref name="checkLast"/> (what needs the others
    /// in range) gives an error, in that order; else <paramref name="run"/> the bench and <paramref name="print"/> its
    /// result, or write it as JSON with --json; the exit code as <see cref="BenchFigures.RunAsync"/> gives it.
    /// </summary>
    public void SetAction<TSettings, TResult>(
        Command command,
        Func<ParseResult, TSettings> bind,
        Func<TSettings, string?> check,
        Func<TSettings, CancellationToken, Task<TResult>> run,
        Action<TResult> print,
        Func<TResult, bool>? met = null,
        JsonSerializerOptions? jsonOptions = null,
        Func<TSettings, string?>? checkLast = null)
    {
        command.SetAction((parseResult, cancellationToken) =>
        {
            var settings = bind(parseResult);
            var error = _checks.Select(c => c(parseResult)).FirstOrDefault(e => e is not null)
                ?? check(settings) ?? Interleaved.CheckRounds(parseResult.GetValue(Rounds)) ?? checkLast?.Invoke(settings);
            return BenchFigures.RunAsync(error, parseResult.GetValue(Json), () => run(settings, cancellationToken), print, met, jsonOptions);
        });
    }

    /// <summary>
    /// <see cref="SetAction"/> for a bench that times its samples (<see cref="SampleSeconds"/>) and checks nothing of its
    /// own beyond the options declared here: <paramref name="run"/> gets the --seconds as the sample's duration, its
    /// settings and the --rounds.
    /// </summary>
    public void SetSampledAction<TSettings, TResult>(
        Command command,
        Func<ParseResult, TSettings> bind,
        Func<TimeSpan, TSettings, int, CancellationToken, Task<TResult>> run,
        Action<TResult> print,
        JsonSerializerOptions? jsonOptions = null)
    {
        var seconds = _sampleSeconds ?? throw new InvalidOperationException("a sampled bench declares --seconds (SampleSeconds) first");
        SetAction(
            command,
            parseResult => (Sample: parseResult.GetValue(seconds), Settings: bind(parseResult), Rounds: parseResult.GetValue(Rounds)),
            _ => null,
            (sampled, cancellationToken) => run(TimeSpan.FromSeconds(sampled.Sample), sampled.Settings, sampled.Rounds, cancellationToken),
            print,
            jsonOptions: jsonOptions);
    }
}
