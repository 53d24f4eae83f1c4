using System.Collections.Concurrent;
using System.Net;
using Testbed.AppHost.Orchestration;
using Testbed.Testing;
using Testbed.Testing.ControlApi;

namespace Testbed.IntegrationTests;

/// <summary>Real processes through the harness and the control API: health, commands, state changes, teardown.</summary>
[Collection(ProcessCollection.Name)]
public sealed class LifecycleTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_testbed_starts_with_every_resource_healthy()
    {
        await using var testbed = await DistributedTestbed.StartAsync();

        var resources = await testbed.Control.GetResourcesAsync();
        Assert.Contains(resources, resource => resource.Name == "tracker");
        Assert.All(resources, resource =>
        {
            Assert.Equal(ResourceState.Running, resource.State);
            Assert.Equal(HealthStatus.Healthy, resource.Health);
            Assert.True(resource.Pid > 0);
        });

        using var tracker = testbed.CreateHttpClient("tracker");
        using var health = await tracker.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.StartsWith("udp://127.0.0.1:", testbed.GetResource("tracker").Urls["udp"], StringComparison.Ordinal);
        Assert.True(ProcessTable.IsAlive(testbed.GetResource("tracker").Pid!.Value));
    }

    [Fact]
    public async Task Restart_kill_start_pause_resume_and_stop_through_the_control_API_change_the_states()
    {
        await using var testbed = await DistributedTestbed.StartAsync();
        var seen = new ConcurrentQueue<ResourceSnapshot>();
        testbed.App.ResourceChanged += snapshot => seen.Enqueue(snapshot);
        var control = testbed.Control;
        var firstPid = testbed.GetResource("tracker").Pid!.Value;

        // restart: Stopping -> Exited -> Starting -> Running, a new process on the same ports.
        var restarted = await control.ExecuteAsync("tracker", ResourceCommands.Restart);
        Assert.NotEqual(firstPid, restarted.Pid);
        Assert.Equal(1, restarted.Restarts);
        var running = await testbed.WaitForHealthyAsync("tracker", Patience);
        Assert.Equal(restarted.Urls, running.Urls);
        Assert.Equal(
            [ResourceState.Stopping, ResourceState.Exited, ResourceState.Starting, ResourceState.Running],
            Transitions(seen).Take(4));
        Assert.False(ProcessTable.IsAlive(firstPid));

        // kill: SIGKILL, the resource is Exited with 137 and the process is gone.
        var secondPid = running.Pid!.Value;
        var killed = await control.ExecuteAsync("tracker", ResourceCommands.Kill);
        Assert.Equal(ResourceState.Exited, killed.State);
        Assert.Equal(137, killed.ExitCode);
        Assert.Contains("SIGKILL", killed.Message, StringComparison.Ordinal);
        Assert.False(ProcessTable.IsAlive(secondPid));

        // Commands that do not apply say so (409), and the control API knows the state.
        var conflict = await Assert.ThrowsAsync<ControlApiException>(() => control.ExecuteAsync("tracker", ResourceCommands.Pause));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal(ResourceState.Exited, (await control.GetResourceAsync("tracker")).State);

        // start again.
        await control.ExecuteAsync("tracker", ResourceCommands.Start);
        var third = await testbed.WaitForHealthyAsync("tracker", Patience);
        var thirdPid = third.Pid!.Value;

        // pause: SIGSTOP, the process is stopped (T) and the health check turns it RuntimeUnhealthy.
        var paused = await control.ExecuteAsync("tracker", ResourceCommands.Pause);
        Assert.True(paused.Paused);
        await testbed.WaitForAsync(() => ProcessTable.State(thirdPid) == 'T', Patience, "the paused process to show state T in /proc");
        var unhealthy = await testbed.WaitForStateAsync("tracker", ResourceState.RuntimeUnhealthy, Patience);
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Health);

        // resume: SIGCONT, healthy again, same process.
        var resumed = await control.ExecuteAsync("tracker", ResourceCommands.Resume);
        Assert.False(resumed.Paused);
        Assert.Equal(thirdPid, (await testbed.WaitForHealthyAsync("tracker", Patience)).Pid);

        // stop: graceful, exit code 0.
        var stopped = await control.ExecuteAsync("tracker", ResourceCommands.Stop);
        Assert.Equal(ResourceState.Exited, stopped.State);
        Assert.Equal(0, stopped.ExitCode);
        Assert.False(ProcessTable.IsAlive(thirdPid));

        var console = await control.GetConsoleAsync("tracker", tail: 500);
        Assert.Contains(console.Lines, line => line.Stream == "system" && line.Text.StartsWith("paused (SIGSTOP", StringComparison.Ordinal));
        Assert.Contains(console.Lines, line => line.Stream == "stdout");
    }

    [Fact]
    public async Task Unknown_names_and_commands_get_clear_errors_from_the_harness_and_the_control_API()
    {
        await using var testbed = await DistributedTestbed.StartAsync();

        var error = Assert.Throws<UnknownResourceException>(() => testbed.CreateHttpClient("peer-9"));
        Assert.Contains("No resource named 'peer-9'", error.Message, StringComparison.Ordinal);
        Assert.Contains("tracker", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<UnknownResourceException>(() => testbed.WaitForHealthyAsync("peer-9"));
        Assert.Throws<UnknownResourceException>(() => testbed.GetEndpoint("tracker", "grpc"));

        var missing = await Assert.ThrowsAsync<ControlApiException>(() => testbed.Control.ExecuteAsync("peer-9", ResourceCommands.Stop));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("tracker", missing.Error, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<ControlApiException>(() => testbed.Control.ExecuteAsync("tracker", "explode"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("restart", unknown.Error, StringComparison.Ordinal);
        using var badTail = await testbed.Control.Http.GetAsync(new Uri("api/resources/tracker/console?tail=-1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, badTail.StatusCode);
    }

    [Fact]
    public async Task WaitForAsync_times_out_with_the_states_and_fails_fast_when_a_watched_resource_exits()
    {
        await using var testbed = await DistributedTestbed.StartAsync();

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => testbed.WaitForAsync(() => false, TimeSpan.FromMilliseconds(300), "the impossible"));
        Assert.Contains("the impossible", timeout.Message, StringComparison.Ordinal);
        Assert.Contains("tracker Running", timeout.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<UnknownResourceException>(() => testbed.WaitForAsync(() => false, Patience, "x", failFastOn: ["peer-7"]));

        await testbed.Control.ExecuteAsync("tracker", ResourceCommands.Kill);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var failed = await Assert.ThrowsAsync<ResourceFailedException>(() => testbed.WaitForAsync(() => false, Patience, "something the tracker serves", failFastOn: ["tracker"]));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Contains("tracker is Exited", failed.Message, StringComparison.Ordinal);
        Assert.Contains("exited with code 137", failed.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ResourceFailedException>(() => testbed.WaitForHealthyAsync("tracker", Patience));
    }

    [Fact]
    public async Task Teardown_kills_every_process_and_leaves_no_child_behind()
    {
        var builder = DistributedTestbed.CreateBuilder();
        var tracker = builder.AddProject("tracker", "../src/Testbed.Tracker").WithEndpoint("udp", "udp", "Tracker__Udp").WithHttpHealthCheck().WithReplicas(2);
        builder.AddProject("probe", "../tests/Testbed.ProbeService").WithReplicas(2).WithReference(tracker).WaitFor(tracker).WithHttpHealthCheck();
        int[] pids;
        await using (var testbed = await DistributedTestbed.StartAsync(builder))
        {
            pids = testbed.Resources.Select(resource => resource.Pid!.Value).ToArray();
            Assert.Equal(4, pids.Length);
            Assert.All(pids, pid => Assert.True(ProcessTable.IsAlive(pid)));
            // A paused process must die too.
            await testbed.Control.ExecuteAsync("probe-2", ResourceCommands.Pause);
        }

        Assert.All(pids, pid => Assert.False(ProcessTable.IsAlive(pid), $"pid {pid} outlived the teardown"));
        var leftovers = ProcessTable.ChildrenOf(Environment.ProcessId)
            .Where(child => child.CommandLine.Contains("Testbed.Tracker.dll", StringComparison.Ordinal) ||
                            child.CommandLine.Contains("Testbed.ProbeService.dll", StringComparison.Ordinal))
            .ToArray();
        Assert.Empty(leftovers);
    }

    private static ResourceState[] Transitions(IEnumerable<ResourceSnapshot> seen)
    {
        var states = new List<ResourceState>();
        foreach (var snapshot in seen.Where(snapshot => snapshot.Name == "tracker"))
        {
            if (states.Count == 0 || states[^1] != snapshot.State)
            {
                states.Add(snapshot.State);
            }
        }

        return states.ToArray();
    }
}
