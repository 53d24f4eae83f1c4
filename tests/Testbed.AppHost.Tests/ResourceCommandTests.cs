using System.Globalization;
using System.Net;
using Aspire.Hosting;
using Testbed.Contracts.Settings;

namespace Testbed.AppHost.Tests;

/// <summary>
/// The testbed's resource commands through the real app model: a peer mines on command, pause and resume freeze and thaw
/// its process, kill ends it with SIGKILL and Aspire's start brings it back; every state shows in the resource snapshots.
/// The control relay answers the testbed's own callers only.
/// </summary>
[Collection(nameof(TestbedCollection))]
public sealed class ResourceCommandTests(ITestOutputHelper output)
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Mine_pause_resume_kill_and_start_reach_the_real_processes()
    {
        await using var testbed = await TestbedApp.StartAsync(["--peers", "2", "--difficulty", "8"], ["tracker", "peer-1", "peer-2", "chaos"], output);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        var mined = await testbed.CommandAsync("peer-1", "mine", CommandTimeout,
            new InteractionInputCollection([new InteractionInput { Name = PeerCommands.BlocksArgument.Name, InputType = InputType.Number, Value = "2" }]));
        Assert.True(mined.Success, mined.Message);
        Assert.Contains("mined 2 block(s)", mined.Message, StringComparison.Ordinal);
        await WaitForHeightAsync(http, testbed.Url("peer-2"), 2);

        var servicePid = await ServicePidAsync(testbed, "peer-2");
        Assert.True((await testbed.CommandAsync("peer-2", "pause", CommandTimeout)).Success);
        await testbed.WaitForStateAsync("peer-2", ResourceControl.PausedState, CommandTimeout);
        Assert.Equal('T', ProcessState(servicePid));

        Assert.True((await testbed.CommandAsync("peer-2", "resume", CommandTimeout)).Success);
        await testbed.WaitForStateAsync("peer-2", "Running", CommandTimeout);
        Assert.NotEqual('T', ProcessState(servicePid));

        Assert.True((await testbed.CommandAsync("peer-2", "kill", CommandTimeout)).Success);
        await WaitUntilAsync(() => ProcessState(servicePid) is null or 'Z', CommandTimeout, $"peer-2's process {servicePid} is still alive after kill");
        await testbed.App.ResourceNotifications.WaitForResourceAsync("peer-2", e => e.Snapshot.State?.Text is "Exited" or "Finished", new CancellationTokenSource(CommandTimeout).Token);

        Assert.True((await testbed.CommandAsync("peer-2", "resource-start", CommandTimeout)).Success);
        using var healthy = new CancellationTokenSource(TestbedApp.StartTimeout);
        await testbed.App.ResourceNotifications.WaitForResourceHealthyAsync("peer-2", healthy.Token);
        await WaitForHeightAsync(http, testbed.Url("peer-2"), 2);
    }

    [Fact]
    public async Task The_control_relay_refuses_web_pages_and_callers_without_the_secret()
    {
        await using var testbed = await TestbedApp.StartAsync(["--peers", "1"], ["tracker", "peer-1", "chaos"], output);
        var environment = (await testbed.SnapshotAsync("chaos")).EnvironmentVariables.ToDictionary(e => e.Name, e => e.Value, StringComparer.Ordinal);
        var relay = new Uri(environment[ChaosSettings.ControlApiUrl.EnvironmentVariable]!);
        var secret = environment[ControlSecret.EnvironmentVariable]!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        using var evil = new HttpRequestMessage(HttpMethod.Post, new Uri(relay, "api/resources/peer-1/commands/pause"))
        {
            Content = new StringContent("{}", System.Text.Encoding.UTF8, "text/plain"),
        };
        evil.Headers.Add("Origin", "http://evil.example");
        evil.Headers.Add(ControlSecret.Header, secret);
        using var refused = await http.SendAsync(evil);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("Origin", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var noSecret = await http.PostAsync(new Uri(relay, "api/resources/peer-1/commands/pause"), null);
        Assert.Equal(HttpStatusCode.Forbidden, noSecret.StatusCode);

        using var rebinding = new HttpRequestMessage(HttpMethod.Get, new Uri(relay, "api/resources"));
        rebinding.Headers.Host = "attacker.example";
        rebinding.Headers.Add(ControlSecret.Header, secret);
        using var rebound = await http.SendAsync(rebinding);
        Assert.Equal(HttpStatusCode.Forbidden, rebound.StatusCode);

        Assert.Equal("Running", (await testbed.SnapshotAsync("peer-1")).State?.Text);
        using var own = new HttpRequestMessage(HttpMethod.Get, new Uri(relay, "api/resources"));
        own.Headers.Add(ControlSecret.Header, secret);
        using var listed = await http.SendAsync(own);
        listed.EnsureSuccessStatusCode();
        var resources = await listed.Content.ReadFromJsonAsync<JsonElement>();
        var peer = resources.EnumerateArray().Single(r => r.GetProperty("name").GetString() == "peer-1");
        Assert.False(peer.GetProperty("paused").GetBoolean());
    }

    /// <summary>The service process of a resource: the leaf under the <c>dotnet run</c> that DCP started.</summary>
    private static async Task<int> ServicePidAsync(TestbedApp testbed, string resource)
    {
        var root = (await testbed.SnapshotAsync(resource)).Properties.Single(p => p.Name == "executable.pid").Value;
        var rootPid = Convert.ToInt32(root, CultureInfo.InvariantCulture);
        // The service is the process whose program is the peer's apphost (bin/.../Testbed.Peer), not dotnet itself.
        return ProcessTree.Descendants(rootPid).Append(rootPid)
            .Single(pid => File.ReadAllText($"/proc/{pid}/cmdline").Split('\0')[0].EndsWith("/Testbed.Peer", StringComparison.Ordinal));
    }

    /// <summary>The state letter of /proc/PID/stat (R, S, T stopped, Z zombie), or null when the process is gone.</summary>
    private static char? ProcessState(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2];
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static async Task WaitForHeightAsync(HttpClient http, Uri peer, long height)
    {
        await WaitUntilAsync(async () =>
        {
            try
            {
                var status = await http.GetFromJsonAsync<JsonElement>(new Uri(peer, "status"));
                return status.GetProperty("height").GetInt64() >= height;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), $"{peer} did not reach height {height}");
    }

    private static Task WaitUntilAsync(Func<bool> condition, TimeSpan within, string failure) =>
        WaitUntilAsync(() => Task.FromResult(condition()), within, failure);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan within, string failure)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(failure);
            }

            await Task.Delay(200);
        }
    }
}
