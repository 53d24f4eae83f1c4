using Testbed.Contracts.Settings;

namespace Testbed.AppHost.Tests;

/// <summary>
/// The app model as <c>dotnet run --project AppHost</c> builds it: separate resources peer-1..peer-N, each with its own
/// name, data directory and loopback addresses (it binds 127.A.B.N and advertises 127.A.(B+1).N, where the chaos service's
/// proxy listens), all meshed through the proxy and agreeing on one chain.
/// </summary>
[Collection(nameof(TestbedCollection))]
public sealed class AppModelTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Peers_get_their_own_names_addresses_and_data_and_agree_through_the_proxy()
    {
        await using var testbed = await TestbedApp.StartAsync(["--peers", "3", "--difficulty", "6"], ["tracker", "peer-1", "peer-2", "peer-3", "chaos"], output);
        var plan = (await testbed.SnapshotAsync("chaos")).EnvironmentVariables.Single(e => e.Name == ChaosSettings.LoopbackPlan.EnvironmentVariable).Value!;
        var peer1 = (await testbed.SnapshotAsync("peer-1")).EnvironmentVariables.ToDictionary(e => e.Name, e => e.Value, StringComparer.Ordinal);
        var dataRoot = peer1[PeerSettings.DataRoot.EnvironmentVariable]!;
        var parts = plan.Split('.');
        var advertised = $"{parts[0]}.{parts[1]}.{int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) + 1}";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Add(ControlSecret.Header, peer1[ControlSecret.EnvironmentVariable]);
        var peers = new[] { "peer-1", "peer-2", "peer-3" };

        using (var mine = await http.PostAsJsonAsync(new Uri(testbed.Url("peer-1"), "mining"), new { action = "mine", blocks = 2 }))
        {
            mine.EnsureSuccessStatusCode();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        List<JsonElement> statuses;
        do
        {
            await Task.Delay(250);
            statuses = [];
            foreach (var peer in peers)
            {
                statuses.Add(await http.GetFromJsonAsync<JsonElement>(new Uri(testbed.Url(peer), "status")));
            }
        }
        while (DateTime.UtcNow < deadline &&
            !(statuses.All(s => s.GetProperty("height").GetInt64() == 2 && s.GetProperty("connectedPeers").GetArrayLength() == 2) &&
              statuses.Select(s => s.GetProperty("tipHash").GetString()).Distinct().Count() == 1));

        Assert.All(statuses, s => Assert.Equal(2, s.GetProperty("height").GetInt64()));
        Assert.All(statuses, s => Assert.Equal(2, s.GetProperty("connectedPeers").GetArrayLength()));
        Assert.Single(statuses.Select(s => s.GetProperty("tipHash").GetString()).Distinct());
        Assert.Equal(peers, statuses.Select(s => s.GetProperty("peer").GetString()!));
        foreach (var status in statuses)
        {
            var n = status.GetProperty("peer").GetString()!["peer-".Length..];
            Assert.StartsWith($"{plan}.{n}:", status.GetProperty("swarm").GetString(), StringComparison.Ordinal);
            Assert.StartsWith($"{plan}.{n}:", status.GetProperty("torrentEndPoint").GetString(), StringComparison.Ordinal);
            Assert.StartsWith($"{advertised}.{n}:", status.GetProperty("advertisedSwarm").GetString(), StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dataRoot, $"peer-{n}", "wallet.key.pem")), $"peer-{n} has no wallet under {dataRoot}");
        }

        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataRoot));
        }
    }
}
