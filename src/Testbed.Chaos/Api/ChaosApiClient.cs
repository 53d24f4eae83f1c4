using System.Text.Json;
using Testbed.Chaos.Checking;
using Testbed.Chaos.Execution;

namespace Testbed.Chaos.Api;

/// <summary>A scenario run as the chaos service reports it (GET /runs/{id}); <see cref="Status"/> is running, passed, failed or error.</summary>
public sealed record ScenarioRunView(string Id, string Scenario, string Status, string? CurrentStep, IReadOnlyList<StepRecord> Steps, string? Error, RunReport? Report)
{
    /// <summary>The run has ended.</summary>
    public bool IsDone => Status != "running";
}

/// <summary>Client of the chaos service's API: run a scenario and follow it, heal the network.</summary>
public sealed class ChaosApiClient(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Starts <paramref name="scenario"/>, reports each newly finished step, and returns the ended run.</summary>
    public async Task<ScenarioRunView> RunScenarioAsync(string scenario, Action<StepRecord>? stepFinished, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(new Uri($"scenarios/{Uri.EscapeDataString(scenario)}/run", UriKind.Relative), content: null, cancellationToken).ConfigureAwait(false);
        var run = await ReadAsync(response, $"run {scenario}", cancellationToken).ConfigureAwait(false);
        var reported = 0;
        while (true)
        {
            foreach (var step in run.Steps.Skip(reported))
            {
                stepFinished?.Invoke(step);
            }

            reported = run.Steps.Count;
            if (run.IsDone)
            {
                return run;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            using var poll = await http.GetAsync(new Uri($"runs/{Uri.EscapeDataString(run.Id)}", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            run = await ReadAsync(poll, $"follow run {run.Id}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>GET /runs/{id}/history: the run's history file, copied to <paramref name="path"/>.</summary>
    public async Task DownloadHistoryAsync(string runId, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri($"runs/{Uri.EscapeDataString(runId)}/history", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"history of run {runId}", cancellationToken).ConfigureAwait(false);
        var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        await using (file.ConfigureAwait(false))
        {
            await response.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Lifts every partition and link fault of the proxy.</summary>
    public async Task HealAsync(CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(new Uri("heal", UriKind.Relative), content: null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "heal", cancellationToken).ConfigureAwait(false);
    }

    private static async Task<ScenarioRunView> ReadAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<ScenarioRunView>(Json, cancellationToken).ConfigureAwait(false)
            ?? throw new ChaosStepException($"the chaos service answered {what} with an empty body");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new ChaosStepException($"the chaos service refused {what}: {(int)response.StatusCode} {ControlApiClient.Truncate(body)}");
        }
    }
}
