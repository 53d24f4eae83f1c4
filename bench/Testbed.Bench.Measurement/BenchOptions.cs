using System.CommandLine;
using System.Text.Json;

namespace Testbed.Bench.Measurement;

/// <summary>
/// The options the benches share, one set per command, declared and checked here: --rounds and --json (every bench) and
/// --seconds (a bench that times its samples), listed among the bench's own options where its help shows them; and the
/// action every bench runs: bind the parsed options into the bench's settings, refuse unusable ones with one line (--seconds
/// first, then the bench's own options, then --rounds), run the bench and print its result or write it as JSON
/// (<see cref="BenchFigures.RunAsync"/>: the exit codes).
/// </summary>
public sealed class BenchOptions
{
    private Option<double>? _sampleSeconds;

    /// <summary>`--rounds N`, checked with <see cref="Interleaved.CheckRounds"/>.</summary>
    public Option<int> Rounds { get; } = Interleaved.RoundsOption();

    /// <summary>`--json`: the result as one JSON object instead of the text.</summary>
    public Option<bool> Json { get; } = BenchFigures.JsonOption();

    /// <summary>`--seconds`, the measuring time of each sample of a bench that times its samples: (0, 600] seconds, fractions allowed.</summary>
    public Option<double> SampleSeconds(string description, double defaultSeconds) =>
        _sampleSeconds = new("--seconds") { Description = description, DefaultValueFactory = _ => defaultSeconds };

    /// <summary>
    /// Sets <paramref name="command"/>'s action: <paramref name="bind"/> the parsed options; refuse them (exit 2) when
    /// --seconds, <paramref name="check"/>, --rounds or <paramref name="checkLast"/> (what needs the others in range)
    /// gives an error, in that order; else <paramref name="run"/> the bench and <paramref name="print"/> its result, or
    /// write it as JSON with --json; the exit code as <see cref="BenchFigures.RunAsync"/> gives it.
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
            var error = CheckSampleSeconds(parseResult) ?? check(settings) ?? Interleaved.CheckRounds(parseResult.GetValue(Rounds)) ?? checkLast?.Invoke(settings);
            return BenchFigures.RunAsync(error, parseResult.GetValue(Json), () => run(settings, cancellationToken), print, met, jsonOptions);
        });
    }

    private string? CheckSampleSeconds(ParseResult parseResult) =>
        _sampleSeconds is null || parseResult.GetValue(_sampleSeconds) is > 0 and <= 600 ? null : "error: --seconds must be in (0, 600]";
}
