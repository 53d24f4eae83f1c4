using System.Net.Http.Json;
using System.Text.Json;
using Testbed.Testing;

namespace Testbed.Peer.Tests;

/// <summary>The peer under the AppHost's orchestrator, wired as the AppHost model does: replicas, tracker reference, health.</summary>
[Collection(nameof(PeerProcesses))]
public sealed class AppModelTests
{
    [Fact]
    public async Task Peer_replicas_referencing_the_tracker_become_healthy_meshed_and_agree()
    {
        var dataRoot = Path.Combine(Path.GetTempPath(), "testbed-peer-apphost-" + Guid.NewGuid().ToString("n")[..8]);
        var builder = DistributedTestbed.CreateBuilder();
        var tracker = builder.AddProject("tracker", "../src/Testbed.Tracker")
            .WithEndpoint("udp", "udp", environmentVariable: "Tracker__Udp")
            .WithHttpHealthCheck("/health");
        builder.AddProject("peer", "../src/Testbed.Peer")
            .WithReplicas(3)
            .WithReference(tracker)
            .WaitFor(tracker)
            .WithHttpHealthCheck("/health")
            .WithEnvironment("Testbed__DataRoot", dataRoot)
            .WithEnvironment("Testbed__DifficultyBits", "6");
        try
        {
            await using var testbed = await DistributedTestbed.StartAsync(builder);
            var clients = new[] { "peer-1", "peer-2", "peer-3" }.Select(n => testbed.CreateHttpClient(n)).ToList();
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
