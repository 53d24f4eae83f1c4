using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Testbed.AppHost.Control;
using Testbed.AppHost.Model;
using Testbed.Peer.Faults;

namespace Testbed.AppHost.Commands;

/// <summary>
/// A peer's commands in the Aspire dashboard: mine N blocks, start and stop continuous mining, kill (SIGKILL), pause
/// (SIGSTOP), resume, and each fault hook. Aspire's own start, stop and restart stay as they are.
/// </summary>
public static class PeerCommands
{
    /// <summary>The argument of the mine command.</summary>
    public static NumberArgument BlocksArgument { get; } = new("blocks", "Blocks", "1");

    /// <summary>The argument of the fault commands: the share of pieces or announcements the fault hits.</summary>
    private static readonly NumberArgument ShareArgument = new("share", "Share (0..1)", "1");

    /// <summary>The argument of the clock-skew fault: how far the peer's clock runs ahead.</summary>
    private static readonly NumberArgument SkewArgument = new("skew_ms", "Skew (ms)", "30000");

    /// <summary>Adds the commands and the peer's status URL to <paramref name="peer"/>.</summary>
    public static void Add(IResourceBuilder<ProjectResource> peer, TestbedModel model)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(model);
        var name = peer.Resource.Name;
        var http = peer.GetEndpoint("http");
        Uri Url() => new(http.Url.TrimEnd('/') + "/");

        peer.WithCommand("mine", "Mine blocks", async context =>
            {
                var blocks = (int)BlocksArgument.Read(context, 1);
                if (blocks is < 1 or > 1000)
                {
                    return CommandResults.Failure($"{BlocksArgument.Name} must be 1..1000, not {blocks}");
                }

                var mined = await model.Peers.MineAsync(Url(), blocks, context.CancellationToken).ConfigureAwait(false);
                return CommandResults.Success($"{name} mined {mined.Count} block(s): {string.Join(", ", mined.Select(b => $"#{b.Height} {b.Hash[..12]}"))}");
            },
            new CommandOptions
            {
                Description = "Mine N blocks on this peer now and announce them",
                IconName = "WrenchScrewdriver",
                IsHighlighted = true,
                UpdateState = WhenRunning,
                Arguments = [BlocksArgument.Input(required: true)],
            });
        peer.WithCommand("mining-start", "Start mining", context => Mining(model, Url(), start: true, context.CancellationToken),
            new CommandOptions { Description = "Mine continuously", IconName = "Play", UpdateState = WhenRunning });
        peer.WithCommand("mining-stop", "Stop mining", context => Mining(model, Url(), start: false, context.CancellationToken),
            new CommandOptions { Description = "Stop continuous mining", IconName = "Stop", UpdateState = WhenRunning });

        peer.WithCommand("kill", "Kill (SIGKILL)", context => model.Control.ExecuteAsync(name, "kill", context.CancellationToken),
            new CommandOptions { Description = "Kill the peer's processes with SIGKILL: no shutdown, no flush", IconName = "DismissCircle", UpdateState = WhenRunning });
        peer.WithCommand("pause", "Pause (SIGSTOP)", context => model.Control.ExecuteAsync(name, "pause", context.CancellationToken),
            new CommandOptions { Description = "Freeze the peer's processes with SIGSTOP", IconName = "Pause", UpdateState = WhenRunning });
        peer.WithCommand("resume", "Resume (SIGCONT)", context => model.Control.ExecuteAsync(name, "resume", context.CancellationToken),
            new CommandOptions
            {
                Description = "Thaw a paused peer with SIGCONT",
                IconName = "Play",
                UpdateState = c => c.ResourceSnapshot.State?.Text == ResourceControl.PausedState ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
            });

        foreach (var fault in FaultState.Names)
        {
            List<InteractionInput> arguments = [(fault == "clock-skew" ? SkewArgument : ShareArgument).Input()];

            peer.WithCommand($"fault-{fault}", $"Fault: {fault}", async context =>
                {
                    var share = ShareArgument.Read(context, 1);
                    var skew = (long)SkewArgument.Read(context, 0);
                    if (share is < 0 or > 1)
                    {
                        return CommandResults.Failure($"{ShareArgument.Name} must be between 0 and 1, not {share.ToString(CultureInfo.InvariantCulture)}");
                    }

                    await model.Peers.SetFaultAsync(Url(), fault, share, skew, context.CancellationToken).ConfigureAwait(false);
                    return CommandResults.Success($"{fault} is on for {name}");
                },
                new CommandOptions { Description = $"Switch the {fault} fault hook on (clear faults switches it off)", IconName = "Bug", UpdateState = WhenRunning, Arguments = arguments });
        }

        peer.WithCommand("clear-faults", "Clear faults", async context =>
            {
                await ClearFaultsAsync(model, Url(), context.CancellationToken).ConfigureAwait(false);
                return CommandResults.Success($"every fault hook of {name} is off");
            },
            new CommandOptions { Description = "Switch every fault hook of this peer off", IconName = "Broom", UpdateState = WhenRunning });

        peer.WithUrls(context =>
        {
            if (context.GetEndpoint("http") is { IsAllocated: true } endpoint)
            {
                context.Urls.Add(new ResourceUrlAnnotation { Url = endpoint.Url + "/status", DisplayText = "status" });
            }

            // The inspector's view of this peer, when the run has an inspector (it needs the dashboard).
            var inspector = context.ExecutionContext.Services.GetRequiredService<DistributedApplicationModel>().Resources
                .OfType<IResourceWithEndpoints>().FirstOrDefault(r => r.Name == TestbedModel.InspectorName);
            if (inspector?.GetEndpoint("http") is { IsAllocated: true } view)
            {
                context.Urls.Add(new ResourceUrlAnnotation { Url = $"{view.Url}/peers/{name}", DisplayText = "inspector" });
            }
        });
    }

    /// <summary>Switches every fault hook of the peer at <paramref name="peer"/> off.</summary>
    public static async Task ClearFaultsAsync(TestbedModel model, Uri peer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var fault in FaultState.Names)
        {
            await model.Peers.ClearFaultAsync(peer, fault, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<ExecuteCommandResult> Mining(TestbedModel model, Uri peer, bool start, CancellationToken cancellationToken)
    {
        await model.Peers.SetMiningAsync(peer, start, cancellationToken).ConfigureAwait(false);
        return CommandResults.Success(start ? "mining continuously" : "mining stopped");
    }

    private static ResourceCommandState WhenRunning(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;
}
