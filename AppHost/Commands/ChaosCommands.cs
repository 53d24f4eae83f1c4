using Testbed.AppHost.Model;
using Testbed.Chaos.Scenarios;

namespace Testbed.AppHost.Commands;

/// <summary>The chaos service's commands in the Aspire dashboard: one per scenario of scenarios.yaml, and heal all.</summary>
public static class ChaosCommands
{
    /// <summary>The command that runs scenario <paramref name="scenario"/>.</summary>
    public static string ScenarioCommand(string scenario) => $"scenario-{scenario}";

    /// <summary>Adds the commands to <paramref name="chaos"/>; scenarios come from the model's scenarios file as it is now.</summary>
    public static void Add(IResourceBuilder<ProjectResource> chaos, TestbedModel model)
    {
        ArgumentNullException.ThrowIfNull(chaos);
        ArgumentNullException.ThrowIfNull(model);
        var http = chaos.GetEndpoint("http");
        Uri Url() => new(http.Url.TrimEnd('/') + "/");

        foreach (var scenario in ScenarioParser.Load(model.ScenariosFile).Scenarios)
        {
            chaos.WithCommand(ScenarioCommand(scenario.Name), $"Scenario: {scenario.Name}", async context =>
                {
                    var run = await model.Chaos(Url()).RunScenarioAsync(scenario.Name, stepFinished: null, context.CancellationToken).ConfigureAwait(false);
                    var failed = run.Steps.Where(s => !s.Ok).Select(s => $"step {s.Index} {s.Kind}: {s.Detail}")
                        .Concat(run.Report?.Invariants.Where(i => !i.Ok).Select(i => $"{i.Name}: {i.Detail}") ?? [])
                        .Append(run.Error ?? run.Report?.Error).OfType<string>().ToList();
                    return run.Status == "passed"
                        ? CommandResults.Success($"{scenario.Name} passed in {run.Report?.Duration.TotalSeconds:0.0} s")
                        : CommandResults.Failure($"{scenario.Name} {run.Status}: {string.Join("; ", failed)}");
                },
                new CommandOptions
                {
                    Description = scenario.Description is { Length: > 0 } d ? d : $"Run {scenario.Name} against this testbed",
                    IconName = "Flash",
                    UpdateState = c => c.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
                });
        }

        chaos.WithCommand("heal-all", "Heal all", async context =>
            {
                await model.Chaos(Url()).HealAsync(context.CancellationToken).ConfigureAwait(false);
                foreach (var peer in model.Control.Resources().Where(r => r.Name.StartsWith("peer-", StringComparison.Ordinal)))
                {
                    if (peer.Paused)
                    {
                        await model.Control.ExecuteAsync(peer.Name, "resume", context.CancellationToken).ConfigureAwait(false);
                    }

                    if (peer.IsLive && peer.Urls?.GetValueOrDefault("http") is { } url)
                    {
                        await PeerCommands.ClearFaultsAsync(model, new Uri(url.TrimEnd('/') + "/"), context.CancellationToken).ConfigureAwait(false);
                    }
                }

                return CommandResults.Success("partitions and link faults lifted, paused peers resumed, fault hooks off");
            },
            new CommandOptions { Description = "Lift every partition and link fault, resume paused peers and switch every fault hook off", IconName = "HeartPulse" });
    }
}
