using Testbed.Chaos.Execution;
using Testbed.Chaos.Hosting;
using Testbed.Chaos.Proxy;
using Testbed.Chaos.Scenarios;
using Testbed.Contracts.Settings;

namespace Testbed.Chaos.Api;

/// <summary>
/// The chaos controller's HTTP API: GET /scenarios, POST /scenarios/{name}/run, GET /runs, GET /runs/{id},
/// GET /runs/{id}/history (the run's history file, JSON lines), GET /proxy.
/// The dashboard starts runs and follows their steps here.
/// </summary>
public static class ChaosApi
{
    /// <summary>
    /// Maps every endpoint, for local callers only (loopback Host, same origin: no web page can drive chaos); starting a run
    /// and healing the network are control requests that also need the run's secret (<see cref="ControlCallers"/>).
    /// </summary>
    public static WebApplication MapChaosApi(this WebApplication web)
    {
        var app = web.MapGroup(string.Empty).RequireLocalCaller();
        app.MapGet("/scenarios", (ScenarioSource source) => Handle(() => Results.Json(source.Load().Scenarios.Select(s => new
        {
            name = s.Name,
            description = s.Description,
            peers = s.Topology.Peers,
            difficultyBits = s.Topology.DifficultyBits,
            lateJoiners = s.Topology.LateJoiners,
            steps = s.Steps.Count,
            timeoutSeconds = s.Timeout.TotalSeconds,
        }))));

        app.MapPost("/scenarios/{name}/run", (string name, ScenarioSource source, RunRegistry runs) => Handle(() =>
        {
            var file = source.Load();
            if (file.Scenarios.FirstOrDefault(s => s.Name == name) is not { } scenario)
            {
                return Results.Problem(statusCode: 404, detail: $"no scenario named '{name}'; known: {string.Join(", ", file.Scenarios.Select(s => s.Name))}");
            }

            var run = runs.Start(scenario);
            return run is null
                ? Results.Problem(statusCode: 409, detail: "another scenario is running; wait for it (GET /runs)")
                : Results.Json(View(run), statusCode: 202);
        })).RequireControlCaller();

        app.MapGet("/runs", (RunRegistry runs) => Results.Json(runs.Runs.Select(View)));
        app.MapGet("/runs/{id}", (string id, RunRegistry runs) =>
            runs.Get(id) is { } run ? Results.Json(View(run)) : Results.Problem(statusCode: 404, detail: $"no run '{id}'"));

        app.MapGet("/runs/{id}/history", (string id, RunRegistry runs) =>
            runs.Get(id) is { } run && File.Exists(run.HistoryFile)
                ? Results.File(run.HistoryFile, "application/x-ndjson", $"{run.Id}.history.jsonl")
                : Results.Problem(statusCode: 404, detail: $"no history of run '{id}'"));

        app.MapPost("/heal", (FaultProxy proxy) =>
        {
            proxy.Links.Heal();
            proxy.Links.ClearToxics();
            return Results.NoContent();
        }).RequireControlCaller();

        app.MapGet("/proxy", (FaultProxy proxy) => Results.Json(new
        {
            nodes = proxy.Nodes.Select(n => new { name = n.Name, privateAddress = n.PrivateAddress.ToString(), publicAddress = n.PublicAddress.ToString() }),
            mirrors = proxy.Mirrors.Select(m => new { node = m.Node, port = m.Port }),
            connections = proxy.Connections,
            blocked = proxy.Links.Blocked.Select(l => l.ToString()),
            toxics = proxy.Links.Toxics.ToDictionary(p => p.Key, p => p.Value.Select(t => new { kind = t.Kind, settings = t.ToString() })),
        }));
        return web;
    }

    private static ScenarioRunView View(ScenarioRun run) => new(run.Id, run.Scenario, run.Status, run.CurrentStep, run.Steps, run.Error, run.Report);

    private static IResult Handle(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (ScenarioParseException e)
        {
            return Results.Problem(statusCode: 500, detail: e.Message, title: "scenarios file is invalid");
        }
        catch (FileNotFoundException e)
        {
            return Results.Problem(statusCode: 500, detail: e.Message, title: "scenarios file is missing");
        }
    }
}

/// <summary>The scenarios file, read on every request so edits apply without a restart.</summary>
public sealed class ScenarioSource(string path)
{
    /// <summary>The file's path.</summary>
    public string Path { get; } = path;

    /// <summary>Parses the file (throws <see cref="ScenarioParseException"/> or <see cref="FileNotFoundException"/>).</summary>
    public ScenarioFile Load() => ScenarioParser.Load(Path);
}

/// <summary>Registers the chaos controller's services.</summary>
public static class ChaosHostingExtensions
{
    /// <summary>Options, proxy (with the loopback plan), clients, executor factory and run registry.</summary>
    public static WebApplicationBuilder AddChaos(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(ChaosSettings.Section).Get<ChaosOptions>() ?? new();
        var plan = options.ParsePlan();
        var controlUrl = options.ControlApiUrl ?? builder.Configuration["services:apphost:http:0"];
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new ScenarioSource(options.ResolveScenariosFile(builder.Environment.ContentRootPath)));
        builder.Services.AddSingleton(new LinkTable());
        builder.Services.AddSingleton(sp => new FaultProxy(sp.GetRequiredService<LinkTable>(), sp.GetRequiredService<ILogger<FaultProxy>>()));
        // Plain clients, not the factory's: the service defaults add retries to those, and a kill or a mine request must run exactly once.
        var control = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(120) };
        if (controlUrl is not null)
        {
            control.BaseAddress = new Uri(controlUrl.TrimEnd('/') + "/");
        }

        var peers = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromMinutes(5) };
        // Under the AppHost every control surface asks for the run's secret (the relay, the peers' mining and fault hooks).
        ControlCallers.AddSecretHeader(control, builder.Configuration[ControlSettings.Secret.Key]);
        ControlCallers.AddSecretHeader(peers, builder.Configuration[ControlSettings.Secret.Key]);

        builder.Services.AddSingleton<Func<ScenarioExecutor>>(sp => () => controlUrl is null
            ? throw new InvalidOperationException($"no control API: set {ChaosSettings.ControlApiUrl.Key} or run under the AppHost (services:apphost:http:0)")
            : new ScenarioExecutor(new ScenarioEnvironment(new ControlApiClient(control), new PeerApiClient(peers), sp.GetRequiredService<FaultProxy>(), plan)));
        builder.Services.AddSingleton<RunRegistry>();
        builder.Services.AddHostedService<ProxyMirrorService>();
        return builder;
    }
}
