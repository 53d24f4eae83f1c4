using System.Diagnostics;
using Testbed.Chaos.Checking;
using Testbed.Chaos.Proxy;
using Testbed.Chaos.Scenarios;

namespace Testbed.Chaos.Execution;

/// <summary>
/// Runs a scenario's steps against a running testbed while recording its history, then checks the invariants. Every fault
/// step is a <c>chaos.fault</c> span. A step that cannot do what it says fails the run (later steps are not run), and so
/// does a failed expectation; the report says which peers and blocks were involved.
/// </summary>
public sealed class ScenarioExecutor(ScenarioEnvironment environment)
{
    private static readonly string[] ByzantineFaults = ["wrong-key", "low-work"];

    /// <summary>Raised when a step starts (index, kind, targets).</summary>
    public event Action<ScenarioStep>? StepStarted;

    /// <summary>Raised when a step ends, with its record.</summary>
    public event Action<StepRecord>? StepFinished;

    /// <summary>The history of the current or last run.</summary>
    public RunHistory History { get; private set; } = new();

    /// <summary>Runs <paramref name="scenario"/>; never throws for a failed step or check (the report says), only for cancellation.</summary>
    public async Task<RunReport> RunAsync(Scenario scenario, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var history = History = new RunHistory();
        var peers = scenario.Topology.PeerNames;
        var started = DateTimeOffset.UtcNow;
        RegisterProxyNodes(peers);
        var recorder = new HistoryRecorder(environment, peers, history);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        run.CancelAfter(scenario.Timeout);
        using var recording = CancellationTokenSource.CreateLinkedTokenSource(run.Token);
        string? error = null;
        var recorderTask = Task.CompletedTask;
        var state = new RunState(scenario, recorder, history);
        try
        {
            await recorder.PollOnceAsync(run.Token).ConfigureAwait(false);
            recorderTask = recorder.RunAsync(recording.Token);
            foreach (var late in scenario.Topology.LateJoiners)
            {
                await ExecuteStepAsync(new ProcessStep(0, 0, "stop", [late]), state, run.Token).ConfigureAwait(false);
            }

            foreach (var step in scenario.Steps)
            {
                if (!await ExecuteStepAsync(step, state, run.Token).ConfigureAwait(false))
                {
                    error = $"step {step.Index} ({step.Kind}) failed; later steps were not run";
                    break;
                }
            }

            await LookUpBlocksAsync(state, run.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            error = $"the scenario ran past its timeout of {DurationText.Format(scenario.Timeout)}";
        }
        catch (Exception e) when (e is HttpRequestException or ChaosStepException or System.Text.Json.JsonException)
        {
            // The control API or a peer could not be asked at all (outside any step).
            error = $"the testbed could not be reached: {e.Message}";
        }
        finally
        {
            await recording.CancelAsync().ConfigureAwait(false);
            await recorderTask.ConfigureAwait(false);
            // Faults on links must not outlive the run that set them.
            environment.Proxy?.Links.Heal();
            environment.Proxy?.Links.ClearToxics();
        }

        cancellationToken.ThrowIfCancellationRequested();
        var invariants = InvariantChecker.CheckInvariants(history, peers.Count);
        var passed = error is null && history.Steps.All(s => s.Ok) && invariants.All(i => i.Ok);
        return new RunReport(scenario.Name, started, DateTimeOffset.UtcNow, passed, history.Steps, invariants, history.Reorgs, history.Crashes,
            history.InvalidBlocks, history.Observations.Count, history.Latest(), error);
    }

    private void RegisterProxyNodes(IReadOnlyList<string> peers)
    {
        if (environment is { Proxy: { } proxy, Plan: { } plan })
        {
            for (var i = 0; i < peers.Count; i++)
            {
                proxy.AddNode(plan.Node(peers[i], i + 1));
            }
        }
    }

    private async Task<bool> ExecuteStepAsync(ScenarioStep step, RunState state, CancellationToken cancellationToken)
    {
        StepStarted?.Invoke(step);
        var started = DateTimeOffset.UtcNow;
        using var span = step.IsFault ? ChaosTelemetry.StartFault(step.Kind, step.Targets, state.Scenario.Name, step.Index) : null;
        bool ok;
        string detail;
        try
        {
            (ok, detail) = await RunStepAsync(step, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ChaosStepException or HttpRequestException or System.Text.Json.JsonException or System.Net.Sockets.SocketException
                                   or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            (ok, detail) = (false, e.Message);
        }

        span?.SetStatus(ok ? ActivityStatusCode.Ok : ActivityStatusCode.Error, ok ? null : detail);
        var record = new StepRecord(step.Index, step.Kind, step.Targets, started, DateTimeOffset.UtcNow, ok, detail);
        state.History.Add(record);
        StepFinished?.Invoke(record);
        return ok;
    }

    private async Task<(bool Ok, string Detail)> RunStepAsync(ScenarioStep step, RunState state, CancellationToken cancellationToken)
    {
        var recorder = state.Recorder;
        switch (step)
        {
            case MineStep mine:
            {
                var parts = new List<string>();
                foreach (var peer in mine.On)
                {
                    var blocks = await environment.Peers.MineAsync(recorder.Url(peer), mine.Blocks, cancellationToken).ConfigureAwait(false);
                    foreach (var block in blocks)
                    {
                        state.History.Add(new MinedRecord(DateTimeOffset.UtcNow, peer, block.Hash, block.Height));
                        if (block.Faulty)
                        {
                            var fault = state.ActiveFaults.TryGetValue(peer, out var active) ? string.Join("+", active.Intersect(ByzantineFaults)) : "faulty";
                            state.History.Add(new InvalidBlockRecord(peer, block.Hash, block.Height, fault.Length == 0 ? "faulty" : fault));
                        }
                    }

                    parts.Add($"{peer} mined {blocks.Count} ({string.Join(",", blocks.Select(b => $"{b.Height}:{InvariantChecker.Short(b.Hash)}{(b.Faulty ? " faulty" : "")}"))})");
                    if (blocks.Count != mine.Blocks)
                    {
                        return (false, $"{peer} mined {blocks.Count} of {mine.Blocks} blocks");
                    }
                }

                return (true, string.Join("; ", parts));
            }

            case MiningStep mining:
                foreach (var peer in mining.On)
                {
                    await environment.Peers.SetMiningAsync(recorder.Url(peer), mining.Start, cancellationToken).ConfigureAwait(false);
                }

                return (true, $"mining {(mining.Start ? "started" : "stopped")} on {string.Join(",", mining.On)}");

            case TransactionsStep load:
                foreach (var peer in load.On)
                {
                    for (var i = 0; i < load.Count; i++)
                    {
                        var id = $"S-{state.Scenario.Name}-{peer}-{step.Index}-{i}-{Guid.NewGuid():N}"[..Math.Min(60, 40 + state.Scenario.Name.Length)];
                        await environment.Peers.SubmitContractAsync(recorder.Url(peer),
                            $$$"""[{"action":"register_student","student":{"id":"{{{id}}}","name":"Chaos Load","department":"Testing"}}]""",
                            cancellationToken).ConfigureAwait(false);
                    }
                }

                return (true, $"{load.Count} transactions to each of {string.Join(",", load.On)}");

            case PartitionStep partition:
            {
                var proxy = RequireProxy(partition.Groups.SelectMany(g => g), recorder);
                for (var i = 0; i < partition.Groups.Count; i++)
                {
                    for (var j = i + 1; j < partition.Groups.Count; j++)
                    {
                        if (partition.BothWays || i == 0)
                        {
                            proxy.Links.Partition([.. partition.Groups[i]], [.. partition.Groups[j]], partition.BothWays);
                        }
                    }
                }

                return (true, $"blocked {proxy.Links.Blocked.Count} directions: {string.Join(" ", proxy.Links.Blocked)}");
            }

            case HealStep:
                environment.Proxy?.Links.Heal();
                return (true, "every partition lifted");

            case ToxicStep toxic:
            {
                var proxy = RequireProxy(toxic.From.Concat(toxic.To), recorder);
                var links = 0;
                foreach (var from in toxic.From)
                {
                    foreach (var to in toxic.To.Where(t => t != from))
                    {
                        proxy.Links.AddToxic(from, to, toxic.Toxic);
                        links++;
                        if (toxic.BothWays)
                        {
                            proxy.Links.AddToxic(to, from, toxic.Toxic);
                            links++;
                        }
                    }
                }

                return (true, $"{toxic.Toxic} on {links} link directions");
            }

            case ClearToxicsStep:
                environment.Proxy?.Links.ClearToxics();
                return (true, "every toxic removed");

            case ProcessStep process:
                foreach (var target in process.On)
                {
                    await RunProcessCommandAsync(process.Action, target, state, cancellationToken).ConfigureAwait(false);
                }

                return (true, $"{process.Action} {string.Join(",", process.On)} done");

            case PeerFaultStep fault:
                foreach (var peer in fault.On)
                {
                    await environment.Peers.SetFaultAsync(recorder.Url(peer), fault.Name, fault.Share, fault.SkewMs, cancellationToken).ConfigureAwait(false);
                    state.ActiveFaults.GetOrAdd(peer, _ => []).Add(fault.Name);
                }

                return (true, $"{fault.Name} on {string.Join(",", fault.On)}");

            case ClearFaultStep clear:
                foreach (var peer in clear.On)
                {
                    await environment.Peers.ClearFaultAsync(recorder.Url(peer), clear.Name, cancellationToken).ConfigureAwait(false);
                    if (state.ActiveFaults.TryGetValue(peer, out var active))
                    {
                        active.Remove(clear.Name);
                    }
                }

                return (true, $"{clear.Name} cleared on {string.Join(",", clear.On)}");

            case WaitStep wait:
                await Task.Delay(wait.Duration, cancellationToken).ConfigureAwait(false);
                return (true, $"waited {DurationText.Format(wait.Duration)}");

            case ExpectStep expect:
                return await ExpectAsync(expect.Expectation, state, cancellationToken).ConfigureAwait(false);

            default:
                throw new ChaosStepException($"step kind {step.Kind} has no executor");
        }
    }

    private async Task<(bool, string)> ExpectAsync(Expectation expectation, RunState state, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var last = CheckResult.Fail("expect", "not checked yet");
        while (true)
        {
            var latest = await state.Recorder.PollOnceAsync(cancellationToken).ConfigureAwait(false);
            last = InvariantChecker.CheckExpectation(expectation, latest, state.History);
            if (last.Ok)
            {
                return (true, $"held after {InvariantChecker.Seconds(clock.Elapsed)}: {last.Detail}");
            }

            if (clock.Elapsed >= expectation.Within)
            {
                return (false, $"did not hold within {DurationText.Format(expectation.Within)}: {last.Detail}");
            }

            await Task.Delay(environment.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RunProcessCommandAsync(string action, string target, RunState state, CancellationToken cancellationToken)
    {
        if (action == "kill" && state.Scenario.Topology.PeerNames.Contains(target))
        {
            // Acknowledged blocks are those reported before this instant.
            await state.Recorder.PollOnceAsync(cancellationToken).ConfigureAwait(false);
            state.History.Add(new CrashRecord(DateTimeOffset.UtcNow, target));
        }

        await environment.Control.ExecuteAsync(target, action, cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(environment.CommandTimeout);
        try
        {
            while (true)
            {
                var resource = (await environment.Control.GetResourcesAsync(timeout.Token).ConfigureAwait(false)).FirstOrDefault(r => r.Name == target)
                    ?? throw new ChaosStepException($"the control API lists no resource '{target}'");
                var reached = action switch
                {
                    "start" or "restart" or "resume" => resource is { State: "Running", Health: "Healthy", Paused: false },
                    "pause" => resource.Paused,
                    _ => resource.State is "Exited" or "Finished" or "FailedToStart",
                };
                if (reached)
                {
                    return;
                }

                if (action is "start" or "restart" && resource.State == "FailedToStart")
                {
                    throw new ChaosStepException($"{target} failed to start");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ChaosStepException($"{target} did not finish '{action}' within {DurationText.Format(environment.CommandTimeout)}");
        }
    }

    private FaultProxy RequireProxy(IEnumerable<string> peers, HistoryRecorder recorder)
    {
        if (environment.Proxy is not { } proxy)
        {
            throw new ChaosStepException("network faults need the fault proxy, and this run has none (the peers talk to each other directly)");
        }

        foreach (var peer in peers.Distinct())
        {
            var node = proxy.Nodes.FirstOrDefault(n => n.Name == peer);
            if (node is null || !recorder.LastStatus.TryGetValue(peer, out var status))
            {
                continue;
            }

            if (status.Swarm is { } swarm && !swarm.Address.Equals(node.PrivateAddress))
            {
                throw new ChaosStepException(
                    $"{peer} listens on {swarm}, not on its planned address {node.PrivateAddress}: its traffic bypasses the proxy. " +
                    "Peers need Testbed:BindAddress (listen and dial from it) and Testbed:AdvertiseAddress (the tracker's ip) for network faults.");
            }
        }

        return proxy;
    }

    private async Task LookUpBlocksAsync(RunState state, CancellationToken cancellationToken)
    {
        var latest = await state.Recorder.PollOnceAsync(cancellationToken).ConfigureAwait(false);
        var answering = latest.Where(o => o.Answered).Select(o => o.Peer).ToHashSet(StringComparer.Ordinal);
        var lookups = new List<(string Peer, string Hash)>();
        foreach (var block in state.History.InvalidBlocks)
        {
            lookups.AddRange(answering.Where(p => p != block.Miner).Select(p => (p, block.Hash)));
        }

        foreach (var crash in state.History.Crashes.Where(c => answering.Contains(c.Peer)))
        {
            lookups.AddRange(InvariantChecker.AcknowledgedBefore(state.History, crash).Select(a => (crash.Peer, a.Hash)));
        }

        foreach (var (peer, hash) in lookups.Distinct())
        {
            var (known, onMain) = await environment.Peers.GetBlockAsync(state.Recorder.Url(peer), hash, cancellationToken).ConfigureAwait(false);
            state.History.Add(new BlockLookup(peer, hash, known, onMain));
        }
    }

    private sealed record RunState(Scenario Scenario, HistoryRecorder Recorder, RunHistory History)
    {
        public System.Collections.Concurrent.ConcurrentDictionary<string, HashSet<string>> ActiveFaults { get; } = new(StringComparer.Ordinal);
    }
}
