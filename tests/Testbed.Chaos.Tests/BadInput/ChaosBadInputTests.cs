using System.Net.Http.Json;
using Microsoft.Extensions.Hosting;
using Testbed.Chaos.Tests.Support;
using Testbed.TestSupport.BadInput;

namespace Testbed.Chaos.Tests.BadInput;

/// <summary>
/// The chaos controller's API against web pages, callers without the run's secret and bad requests: refusals are 403
/// problem details, no run starts, every error is problem details, and the service stays healthy.
/// </summary>
public sealed class ChaosApiBadInputTests
{
    private static readonly string Scenarios = Path.Combine(AppContext.BaseDirectory, "scenarios.yaml");
    private static readonly string Secret = ControlCallers.NewSecret();

    // Exactly as Program.cs builds it; port 9 (discard) refuses: a run that does start fails at once, touching nothing.
    private static Task<ChaosService> StartAsync(string scenarios, string? secret) =>
        ChaosService.StartAsync(scenarios, secret, controlApi: "http://127.0.0.1:9/", serviceDefaults: true);

    private static async Task<string> ProblemAsync(HttpResponseMessage response, int status, string context)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{context}: {(int)response.StatusCode} {body}");
        BadInputs.AssertNoStackTrace(body, context);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        return problem.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() ?? "" : "";
    }

    private static async Task AssertNoRunAsync(ChaosService service)
    {
        var runs = await service.Http.GetFromJsonAsync<JsonElement>("runs");
        Assert.Equal(0, runs.GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, (await service.Http.GetAsync("health")).StatusCode);
    }

    [Fact]
    public async Task A_web_page_cannot_start_a_run_or_heal_even_with_text_plain()
    {
        await using var service = await StartAsync(Scenarios, Secret);
        foreach (var path in new[] { "scenarios/baseline-convergence/run", "heal" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}", Encoding.UTF8, "text/plain") };
            request.Headers.Add("Origin", "http://evil.example");
            Assert.Contains("another origin", await ProblemAsync(await service.Http.SendAsync(request), 403, path), StringComparison.Ordinal);
        }

        await AssertNoRunAsync(service);
    }

    [Fact]
    public async Task Control_requests_need_the_runs_secret_and_every_request_a_loopback_host()
    {
        await using var service = await StartAsync(Scenarios, Secret);
        using var bare = new HttpClient { BaseAddress = service.Address };
        Assert.Contains(ControlCallers.SecretHeader, await ProblemAsync(await bare.PostAsync("scenarios/baseline-convergence/run", null), 403, "no secret"), StringComparison.Ordinal);
        using var wrong = new HttpRequestMessage(HttpMethod.Post, "heal");
        wrong.Headers.Add(ControlCallers.SecretHeader, ControlCallers.NewSecret());
        Assert.Contains("does not match", await ProblemAsync(await bare.SendAsync(wrong), 403, "wrong secret"), StringComparison.Ordinal);

        foreach (var (method, path) in new[] { (HttpMethod.Get, "scenarios"), (HttpMethod.Get, "proxy"), (HttpMethod.Post, "scenarios/baseline-convergence/run") })
        {
            using var rebound = new HttpRequestMessage(method, path);
            rebound.Headers.Host = $"attacker.example:{service.Address.Port}";
            Assert.Contains("Host header", await ProblemAsync(await service.Http.SendAsync(rebound), 403, $"rebinding {path}"), StringComparison.Ordinal);
        }

        // The reading API needs no secret.
        Assert.Equal(HttpStatusCode.OK, (await bare.GetAsync("scenarios")).StatusCode);
        await AssertNoRunAsync(service);
    }

    [Fact]
    public async Task Without_a_configured_secret_runs_are_refused_saying_so()
    {
        await using var service = await StartAsync(Scenarios, secret: null);
        var detail = await ProblemAsync(await service.Http.PostAsync("scenarios/baseline-convergence/run", null), 403, "no secret configured");
        Assert.Contains("no control secret is configured", detail, StringComparison.Ordinal);
        await AssertNoRunAsync(service);
    }

    [Fact]
    public async Task Unknown_paths_methods_scenarios_and_runs_get_problems()
    {
        await using var service = await StartAsync(Scenarios, Secret);
        await ProblemAsync(await service.Http.GetAsync("no/such/path"), 404, "unknown path");
        await ProblemAsync(await service.Http.DeleteAsync("scenarios"), 405, "DELETE /scenarios");
        Assert.Contains("no run", await ProblemAsync(await service.Http.GetAsync("runs/nope"), 404, "unknown run"), StringComparison.Ordinal);
        foreach (var (name, value) in BadInputs.ArgumentStrings(15, BadInputs.Seed))
        {
            if (value.Length > 1000 || value.Contains('/', StringComparison.Ordinal) || value is "." or ".." || value.Trim().Length == 0)
            {
                continue;
            }

            using var response = await service.Http.PostAsync($"scenarios/{Uri.EscapeDataString(value)}/run", null);
            var detail = await ProblemAsync(response, 404, $"scenario <{name}> (seed {BadInputs.Seed})");
            Assert.Contains("no scenario named", detail, StringComparison.Ordinal);
        }

        await AssertNoRunAsync(service);
    }

    [Fact]
    public async Task A_scenarios_file_that_is_a_device_or_has_a_tab_is_a_clean_500_naming_the_problem()
    {
        await using (var device = await StartAsync("/dev/zero", Secret))
        {
            var detail = await ProblemAsync(await device.Http.GetAsync("scenarios"), 500, "/dev/zero scenarios");
            Assert.Contains("device", detail, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await device.Http.GetAsync("health")).StatusCode);
        }

        var path = Path.GetTempFileName();
        try
        {
            var lines = (await File.ReadAllLinesAsync(Scenarios)).Take(20).ToArray();
            lines[14] = "\t" + lines[14].TrimStart();
            await File.WriteAllLinesAsync(path, lines);
            await using var tabbed = await StartAsync(path, Secret);
            Assert.Contains("line 15", await ProblemAsync(await tabbed.Http.GetAsync("scenarios"), 500, "tabbed scenarios"), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>The scenarios parser against broken YAML: errors carry the right line and are always a ScenarioParseException.</summary>
public sealed class ScenarioParserBadInputTests
{
    private static readonly string Valid = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "scenarios.yaml"));

    [Theory]
    [InlineData(15)]
    [InlineData(3)]
    [InlineData(40)]
    public void A_tab_in_the_indentation_is_reported_on_its_own_line(int line)
    {
        var lines = Valid.Split('\n');
        var target = Enumerable.Range(line - 1, lines.Length).First(i => lines[i].StartsWith("  ", StringComparison.Ordinal) && lines[i].Trim().Length > 0);
        lines[target] = "\t" + lines[target].TrimStart();
        var error = Assert.Throws<ScenarioParseException>(() => ScenarioParser.Parse(string.Join('\n', lines)));
        Assert.Equal(target + 1, error.Errors[0].Line);
        Assert.Contains("tab", error.Errors[0].Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("scenarios:\n  - name: a\n    steps: [1,\n      2\n")]
    [InlineData("scenarios: {a: [1\n")]
    [InlineData("scenarios: \"unterminated\n")]
    [InlineData("scenarios:\n  - name: 'x\n")]
    public void Unterminated_values_are_parse_errors_not_crashes(string yaml)
    {
        var error = Assert.Throws<ScenarioParseException>(() => ScenarioParser.Parse(yaml));
        Assert.InRange(error.Errors[0].Line, 1, yaml.Split('\n').Length);
    }

    [Fact]
    public void Generated_mutations_of_the_real_file_parse_or_fail_with_lines_inside_the_file()
    {
        var random = new Random(BadInputs.Seed);
        var kinds = new Dictionary<string, int>();
        for (var i = 0; i < 300; i++)
        {
            var text = Valid;
            var at = random.Next(text.Length);
            string kind;
            switch (random.Next(6))
            {
                case 0:
                    kind = "truncated";
                    text = text[..at];
                    break;
                case 1:
                    kind = "tab";
                    text = text.Insert(text.LastIndexOf('\n', Math.Max(0, at - 1)) + 1, "\t");
                    break;
                case 2:
                    kind = "bracket";
                    text = text.Insert(at, "[{\"'"[random.Next(4)].ToString());
                    break;
                case 3:
                    kind = "control";
                    text = text.Insert(at, ((char)random.Next(0, 0x20)).ToString());
                    break;
                case 4:
                    kind = "deleted";
                    text = text.Remove(at, Math.Min(random.Next(1, 40), text.Length - at));
                    break;
                default:
                    kind = "colon";
                    text = text.Insert(at, ": ");
                    break;
            }

            try
            {
                ScenarioParser.Parse(text);
                kinds[kind + " ok"] = kinds.GetValueOrDefault(kind + " ok") + 1;
            }
            catch (ScenarioParseException e)
            {
                var lines = text.Split('\n').Length;
                Assert.All(e.Errors, error => Assert.InRange(error.Line, 1, lines));
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {kind} #{i} (seed {BadInputs.Seed}) threw {e}");
            }
        }

        Assert.True(kinds.Keys.Count(k => !k.EndsWith(" ok", StringComparison.Ordinal)) >= 3, string.Join(", ", kinds));
    }
}
