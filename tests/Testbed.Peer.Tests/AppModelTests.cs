using System.Net.Http.Json;
using System.Text.Json;
using Testbed.Testing;

namespace Testbed.Peer.Tests;

/// <summary>
/// The peer under the AppHost's orchestrator, wired as the AppHost model does: replicas, tracker reference, health, and
/// one loopback address per replica (Testbed:BindAddress with the {replica} placeholder, advertised to the tracker).
/// </summary>
[Collection(nameof(PeerProcesses))]
public sealed class AppModelTests
{
    [Fact]
    public async Task Peer_replicas_on_their_own_loopback_addresses_become_healthy_meshed_and_agree()
    {
        var subnet = $"127.{Random.Shared.Next(100, 250)}.{Random.Shared.Next(0, 255)}";
        var dataRoot = Path.Combine(Path.GetTempPath(), "testbed-peer-apphost-" + Guid.NewGuid().ToString("n")[..8]);
        var builder = DistributedTestbed.CreateBuilder();
        var tracker = builder.AddProject("tracker", "../src/Testbed.Tracker")
            .WithEndpoint("udp", "udp", environmentVariable: "Tracker__Udp")
            .WithEnvironment("Tracker__AllowClientIp", "true")
            .WithHttpHealthCheck("/health");
        builder.AddProject("peer", "../src/Testbed.Peer")
            .WithReplicas(3)
            .WithReference(tracker)
            .WaitFor(tracker)
            .WithHttpHealthCheck("/health")
            .WithEnvironment("Testbed__DataRoot", dataRoot)
            .WithEnvironment("Testbed__DifficultyBits", "6")
            .WithEnvironment("Testbed__BindAddress", subnet + ".{replica}")
            .WithEnvironment("Testbed__AdvertiseAddress", subnet + ".{replica}")
            .WithEnvironment(Cluster.ServiceProcess.ControlSecretVariable, Cluster.ServiceProcess.ControlSecret);
        try
        {
            await using var testbed = await DistributedTestbed.StartAsync(builder);
            var clients = new[] { "peer-1", "peer-2", "peer-3" }.Select(n => testbed.CreateHttpClient(n)).ToList();
            clients.ForEach(c => c.DefaultRequestHeaders.Add(Cluster.ServiceProcess.ControlSecretHeader, Cluster.ServiceProcess.ControlSecret));
            using (var mine = await clients[0].PostAsJsonAsync("mining", new { action = "mine", blocks = 2 }))
            {
                mine.EnsureSuccessStatusCode();
            }

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            List<JsonElement> statuses;
            do
            {
                await Task.Delay(250);
                statuses = [];
                foreach (var client in clients)
                {
                    statuses.Add(await client.GetFromJsonAsync<JsonElement>("status"));
                }
            }
            while (DateTime.UtcNow < deadline &&
                !(statuses.All(s => s.GetProperty("height").GetInt64() == 2 && s.GetProperty("connectedPeers").GetArrayLength() == 2) &&
                  statuses.Select(s => s.GetProperty("tipHash").GetString()).Distinct().Count() == 1));

            Assert.All(statuses, s => Assert.Equal(2, s.GetProperty("height").GetInt64()));
            Assert.Single(statuses.Select(s => s.GetProperty("tipHash").GetString()).Distinct());
            Assert.Equal(["peer-1", "peer-2", "peer-3"], statuses.Select(s => s.GetProperty("peer").GetString()!));
            // Each peer listens on its own address, and every connection (dialled or accepted) comes from the other's own address.
            foreach (var status in statuses)
            {
                var own = subnet + "." + status.GetProperty("peer").GetString()!["peer-".Length..];
                Assert.StartsWith(own + ":", status.GetProperty("swarm").GetString(), StringComparison.Ordinal);
                Assert.StartsWith(own + ":", status.GetProperty("torrentEndPoint").GetString(), StringComparison.Ordinal);
                Assert.Equal(status.GetProperty("swarm").GetString(), status.GetProperty("advertisedSwarm").GetString());
                foreach (var connected in status.GetProperty("connectedPeers").EnumerateArray())
                {
                    var theirs = subnet + "." + connected.GetProperty("name").GetString()!["peer-".Length..];
                    Assert.StartsWith(theirs + ":", connected.GetProperty("endPoint").GetString(), StringComparison.Ordinal);
                }
            }

            Assert.All(statuses, s => Assert.True(File.Exists(Path.Combine(dataRoot, s.GetProperty("peer").GetString()!, "wallet.key.pem"))));
        }
        finally
        {
            try
            {
                Directory.Delete(dataRoot, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
