using System.Net.Http.Json;
using Microsoft.Extensions.Hosting;
using Testbed.Chaos.Tests.Support;

namespace Testbed.Chaos.Tests.Api;

/// <summary>The service API over HTTP on loopback: scenario list, run start, run status, proxy view, errors.</summary>
public sealed class ChaosApiTests
{
    [Fact]
    public async Task Lists_scenarios_starts_runs_and_reports_their_status()
    {
        await using var service = await StartAsync(Path.Combine(AppContext.BaseDirectory, "scenarios.yaml"), controlApi: "http://127.0.0.1:9/");
        using var scenarios = JsonDocument.Parse(await service.Http.GetStringAsync(new Uri("scenarios", UriKind.Relative)));
        var names = scenarios.RootElement.EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToArray();
        Assert.Contains("partition-heal", names);
        Assert.Equal(ScenarioParser.Load(Path.Combine(AppContext.BaseDirectory, "scenarios.yaml")).Scenarios.Select(s => s.Name), names);

        using var unknown = await service.Http.PostAsync(new Uri("scenarios/nope/run", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("baseline-convergence", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The control API at port 9 (discard) refuses: the run starts, then fails, saying why.
        using var started = await service.Http.PostAsync(new Uri("scenarios/baseline-convergence/run", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        JsonElement run = default;
        for (var i = 0; i < 300; i++)
        {
            run = await service.Http.GetFromJsonAsync<JsonElement>(new Uri($"runs/{id}", UriKind.Relative));
            if (run.GetProperty("status").GetString() != "running")
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Contains("could not be reached", run.GetProperty("report").GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(run.GetProperty("report").GetProperty("passed").GetBoolean());

        // The run's directory holds its history (served too) and its report; the history says why the run ended.
        var historyFile = run.GetProperty("report").GetProperty("historyFile").GetString()!;
        Assert.Equal(Path.Combine(service.RunsDirectory, id, "history.jsonl"), historyFile);
        Assert.True(File.Exists(Path.Combine(service.RunsDirectory, id, "report.json")));
        var lines = (await service.Http.GetStringAsync(new Uri($"runs/{id}/history", UriKind.Relative))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("{\"type\":\"run\",", lines[0], StringComparison.Ordinal);
        Assert.Contains("could not be reached", lines[^1], StringComparison.Ordinal);
        using var noHistory = await service.Http.GetAsync(new Uri("runs/none/history", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, noHistory.StatusCode);
        var runs = await service.Http.GetFromJsonAsync<JsonElement>(new Uri("runs", UriKind.Relative));
        Assert.Equal(id, runs.EnumerateArray().Single().GetProperty("id").GetString());
        using var missing = await service.Http.GetAsync(new Uri("runs/none", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        var proxy = await service.Http.GetFromJsonAsync<JsonElement>(new Uri("proxy", UriKind.Relative));
        Assert.Equal(JsonValueKind.Array, proxy.GetProperty("connections").ValueKind);
    }

    [Fact]
    public async Task An_invalid_scenarios_file_is_reported_with_its_errors()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(path, "scenarios:\n  - name: x\n    peers: 2\n    steps: [ { jump: {} } ]\n");
            await using var service = await StartAsync(path, controlApi: null);
            using var response = await service.Http.GetAsync(new Uri("scenarios", UriKind.Relative));
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Contains("unknown step kind 'jump'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static readonly string Secret = ControlCallers.NewSecret();

    private static Task<ChaosService> StartAsync(string scenarios, string? controlApi) =>
        ChaosService.StartAsync(scenarios, Secret, controlApi, serviceDefaults: false);
}
