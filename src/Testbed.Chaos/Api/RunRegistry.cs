using System.Collections.Concurrent;
using Testbed.Chaos.Checking;
using Testbed.Chaos.Execution;
using Testbed.Chaos.Hosting;
using Testbed.Chaos.Scenarios;

namespace Testbed.Chaos.Api;

/// <summary>One run started through the API: live steps while it runs, the report once it ends, its directory on disk.</summary>
public sealed class ScenarioRun(string id, string scenario, string directory)
{
    private readonly ConcurrentQueue<StepRecord> _steps = new();

    /// <summary>The run's id.</summary>
    public string Id { get; } = id;

    /// <summary>The scenario's name.</summary>
    public string Scenario { get; } = scenario;

    /// <summary>The run's directory: its history (<see cref="Checking.HistoryFile.FileName"/>) and, once it ended, report.json.</summary>
    public string Directory { get; } = directory;

    /// <summary>The run's history file (JSON lines), written while it runs.</summary>
    public string HistoryFile => Path.Combine(Directory, Checking.HistoryFile.FileName);

    /// <summary>running, passed, failed or error.</summary>
    public string Status { get; internal set; } = "running";

    /// <summary>The step running now, if any.</summary>
    public string? CurrentStep { get; internal set; }

    /// <summary>Finished steps so far.</summary>
    public IReadOnlyList<StepRecord> Steps => [.. _steps];

    /// <summary>The report, once the run ended.</summary>
    public RunReport? Report { get; internal set; }

    /// <summary>Why the run could not run at all.</summary>
    public string? Error { get; internal set; }

    internal void Add(StepRecord step) => _steps.Enqueue(step);
}

/// <summary>Starts scenario runs one at a time in the background and keeps the last ones, each in its own directory.</summary>
public sealed class RunRegistry(Func<ScenarioExecutor> createExecutor, ChaosOptions options, ILogger<RunRegistry> logger) : IDisposable
{
    /// <summary>The file a run's report is written to in its directory.</summary>
    public const string ReportFileName = "report.json";

    /// <summary>Runs kept for GET /runs.</summary>
    public const int MaxRuns = 50;

    private readonly ConcurrentDictionary<string, ScenarioRun> _runs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>Every kept run, newest last.</summary>
    public IReadOnlyList<ScenarioRun> Runs => [.. _runs.Values.OrderBy(r => r.Id, StringComparer.Ordinal)];

    /// <summary>A run by id.</summary>
    public ScenarioRun? Get(string id) => _runs.GetValueOrDefault(id);

    /// <summary>Starts <paramref name="scenario"/>; null when another run is still going.</summary>
    public ScenarioRun? Start(Scenario scenario)
    {
        if (!_oneAtATime.Wait(0))
        {
            return null;
        }

        var id = $"{DateTimeOffset.UtcNow:yyyyMMddHHmmssfff}-{scenario.Name}";
        var run = new ScenarioRun(id, scenario.Name, Path.Combine(options.ResolveRunsDirectory(), id));
        _runs[run.Id] = run;
        foreach (var old in _runs.Values.OrderBy(r => r.Id, StringComparer.Ordinal).SkipLast(MaxRuns))
        {
            _runs.TryRemove(old.Id, out _);
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var executor = createExecutor();
                executor.StepStarted += step => run.CurrentStep = $"{step.Index} {step.Kind}";
                executor.StepFinished += run.Add;
                CreateRunDirectory(run.Directory);
                var report = await executor.RunAsync(scenario, run.HistoryFile, _stopping.Token).ConfigureAwait(false);
                await File.WriteAllTextAsync(Path.Combine(run.Directory, ReportFileName), report.ToJson(), _stopping.Token).ConfigureAwait(false);
                run.Report = report;
                run.Status = report.Passed ? "passed" : "failed";
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogError(e, "scenario run {Run} could not run", run.Id);
                run.Error = e.Message;
                run.Status = "error";
            }
            finally
            {
                run.CurrentStep = null;
                _oneAtATime.Release();
            }
        });
        return run;
    }

    /// <summary>Creates a run's directory (owner only), removing the oldest run directories beyond <see cref="MaxRuns"/>.</summary>
    private void CreateRunDirectory(string directory)
    {
        var root = Path.GetDirectoryName(directory)!;
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        // Only run directories (named yyyyMMddHHmmssfff-scenario) are ever removed, whatever else the root holds.
        var runs = System.IO.Directory.EnumerateDirectories(root)
            .Where(d => Path.GetFileName(d) is { Length: > 18 } n && n[17] == '-' && n[..17].All(char.IsAsciiDigit));
        foreach (var old in runs.Order(StringComparer.Ordinal).SkipLast(MaxRuns))
        {
            try
            {
                System.IO.Directory.Delete(old, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogInformation("old run directory {Directory} not removed: {Error}", old, e.Message);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }
}
