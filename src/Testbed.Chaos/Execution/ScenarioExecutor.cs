using System.Diagnostics;
using Testbed.Chaos.Checking;
using Testbed.Chaos.Proxy;
using Testbed.Chaos.Scenarios;
using Testbed.Contracts.Settings;

namespace Testbed.Chaos.Execution;

/// <summary>
/// Runs a scenario's steps against a running testbed while recording its history into a file (JSON lines), then checks the
/// run from that file alone: every expect step again and every invariant. Every fault step is a <c>chaos.fault</c> span. A
/// step that cannot do what it says fails the run (later steps are not run), and so does a failed expectation; the report
/// says which peers and blocks were involved.
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

    /// <summary>
    /// Runs <paramref name="scenario"/>, writing its history to <paramref name="historyFile"/> (which must not exist yet);
    /// never throws for a failed step or check (the report says), only for cancellation.
    /// </summary>
    public async Task<RunReport> RunAsync(Scenario scenario, string historyFile, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentException.ThrowIfNullOrEmpty(historyFile);
        var peers = scenario.Topology.PeerNames;
        var started = DateTimeOffset.UtcNow;
        using var writer = new HistoryWriter(historyFile);
        var history = History = new RunHistory(writer.Write);
        history.Add(new RunStarted(started, scenario.Name, peers, [.. scenario.Steps.Select(PlannedStep.Of)]));
        RegisterProxyNodes(peers);
        var recorder = new HistoryRecorder(environment, peers, history);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        run.CancelAfter(scenario.Timeout);
        using var recording = CancellationTokenSource.CreateLinkedTokenSource(run.Token);
        string? error = null;
        var recorderTask = Task.CompletedTask;
        var state = new RunState(scenario, recorder, history) { LastExpectEnded = started };
        try
        {
            await recorder.PollOnceAsync(run.Token).ConfigureAwait(false);
            recorderTask = recorder.RunAsync(recording.Token);
            await StopLateJoinersAsync(state, run.Token).ConfigureAwait(false);

            foreach (var step in scenario.Steps)
            {
                if (!await ExecuteStepAsync(step, state, run.Token).ConfigureAwait(false))
                {
                    error = $"step {step.Index} ({step.Kind}) failed; later steps were not run";
                    break;
                }
            }

            await CheckConsistencyAsync(state, run.Token).ConfigureAwait(false);
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
        history.Add(new RunEnded(DateTimeOffset.UtcNow, error));
        writer.Dispose();

        // The verdict comes from the file alone, as `scenario check FILE` would give it later.
        IReadOnlyList<CheckResult> checks;
        try
        {
            checks = InvariantChecker.Check(HistoryFile.Read(historyFile));
        }
        catch (Exception e) when (e is HistoryFileException or IOException or UnauthorizedAccessException)
        {
            checks = [CheckResult.Fail("history-file", $"{historyFile} could not be read back: {e.Message}")];
        }

        var passed = error is null && history.Steps.All(s => s.Ok) && checks.All(i => i.Ok);
        return new RunReport(scenario.Name, started, DateTimeOffset.UtcNow, passed, history.Steps, checks, history.Reorgs, history.Crashes,
            history.InvalidBlocks, history.Observations.Count, history.Latest(), error, historyFile);
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
        if (step is ExpectStep)
        {
            // The next expect step counts events from here, as the checker does from the history.
            state.LastExpectEnded = record.Ended;
        }

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
                        var at = DateTimeOffset.UtcNow;
                        state.History.Add(new MinedRecord(at, peer, block.Hash, block.Height, block.Faulty, block.Withheld));
                        if (block.Faulty)
                        {
                            var fault = state.ActiveFaults.TryGetValue(peer, out var active) ? string.Join("+", active.Intersect(ByzantineFaults)) : "faulty";
                            state.History.Add(new InvalidBlockRecord(peer, block.Hash, block.Height, fault.Length == 0 ? "faulty" : fault, at));
                        }
                    }

                    parts.Add($"{peer} mined {blocks.Count} ({string.Join(",", blocks.Select(b => $"{b.Height}:{InvariantChecker.Short(b.Hash)}{(b.Faulty ? " faulty" : "")}"))})");
                    if (blocks.Count != mine.Blocks)
                    {
                        return (false, $"{peer} mined {blocks.Count} of {mine.Blocks} blocks");
                    }
                }

                // What the miners' chains look like now, before the next step: height-grows checks each mine step against it.
                try
                {
                    await recorder.PollOnceAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException or ChaosStepException)
                {
                    // The control API hiccuped: the mine step did what it said; the background polls observe the miners instead.
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
            last = ExpectationChecker.CheckExpectation(expectation, latest, state.History, state.LastExpectEnded, DateTimeOffset.UtcNow);
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

    /// <summary>
    /// Late joiners are not running before the first step: an AppHost shaped for the scenario never started them; on any
    /// other testbed (a scenario run from the dashboard) they are stopped here.
    /// </summary>
    private async Task StopLateJoinersAsync(RunState state, CancellationToken cancellationToken)
    {
        var resources = await environment.Control.GetResourcesAsync(cancellationToken).ConfigureAwait(false);
        foreach (var late in state.Scenario.Topology.LateJoiners)
        {
            if (resources.FirstOrDefault(r => r.Name == late) is not { State: "NotStarted" })
            {
                await ExecuteStepAsync(new ProcessStep(0, 0, "stop", [late]), state, cancellationToken).ConfigureAwait(false);
            }
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

            if (status.SwarmListener() is { } swarm && !swarm.Address.Equals(node.PrivateAddress))
            {
                throw new ChaosStepException(
                    $"{peer} listens on {swarm}, not on its planned address {node.PrivateAddress}: its traffic bypasses the proxy. " +
                    $"Peers need {PeerSettings.BindAddress.Key} (listen and dial from it) and {PeerSettings.AdvertiseAddress.Key} (the tracker's ip) for network faults.");
            }
        }

        return proxy;
    }

    /// <summary>
    /// The end of the run: a last poll (observations and block logs), then GET /consistency on every peer (its chain store
    /// against its live VM); a running peer that cannot answer is recorded as unchecked, which fails the run.
    /// </summary>
    private async Task CheckConsistencyAsync(RunState state, CancellationToken cancellationToken)
    {
        var latest = await state.Recorder.PollOnceAsync(cancellationToken).ConfigureAwait(false);
        foreach (var observation in latest)
        {
            var peer = observation.Peer;
            if (!observation.Live)
            {
                state.History.Add(new ConsistencyRecord(DateTimeOffset.UtcNow, peer, false, false, [], Error: "not running at the end of the run", Live: false));
                continue;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(environment.CommandTimeout);
            try
            {
                var report = await environment.Peers.GetConsistencyAsync(state.Recorder.Url(peer), timeout.Token).ConfigureAwait(false);
                state.History.Add(new ConsistencyRecord(DateTimeOffset.UtcNow, peer, true, report.Consistent, report.Problems, report.Height, report.TipHash, report.StateRoot, report.LiveStateRoot));
            }
            catch (Exception e) when (e is HttpRequestException or ChaosStepException or System.Text.Json.JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                state.History.Add(new ConsistencyRecord(DateTimeOffset.UtcNow, peer, false, false, [], Error: $"GET /consistency failed: {e.Message}"));
            }
        }
    }

    private sealed record RunState(Scenario Scenario, HistoryRecorder Recorder, RunHistory History)
    {
        /// <summary>When the previous expect step ended (or the run started): counted events are those after it.</summary>
        public DateTimeOffset LastExpectEnded { get; set; }

        public System.Collections.Concurrent.ConcurrentDictionary<string, HashSet<string>> ActiveFaults { get; } = new(StringComparer.Ordinal);
    }
}
