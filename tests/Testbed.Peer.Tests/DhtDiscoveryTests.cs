namespace Testbed.Peer.Tests;

/// <summary>Real peer processes find each other through their DHT nodes when the tracker is gone.</summary>
[Collection(nameof(PeerProcesses))]
public sealed class DhtDiscoveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_peer_started_after_the_tracker_died_finds_every_peer_from_one_DHT_address_and_catches_up()
    {
        await using var net = await PeerNetwork.StartAsync(output);
        foreach (var name in new[] { "peer-1", "peer-2", "peer-3" })
        {
            await net.StartPeerAsync(name);
        }

        await net.WaitMeshAsync();
        await net.MineAsync("peer-1", 3);
        await net.WaitConvergedAsync(3);
        // The peers learned each other's DHT nodes from their handshakes and announced the network there.
        await net.WaitForAsync("every DHT node knows the other two and found the network's members", s =>
            s.Values.All(v => v.GetProperty("dht").GetProperty("nodes").GetInt32() >= 2 && v.GetProperty("dht").GetProperty("peersFound").GetInt32() >= 2));
        var bootstrap = (await net.StatusAsync("peer-1")).GetProperty("dht").GetProperty("endPoint").GetString()!;

        net.Tracker.KillHard();
        Assert.True(net.Tracker.HasExited);
        // Healthy means membership known: with the tracker dead, only the DHT can have told peer-4 of anyone.
        await net.StartPeerAsync("peer-4", new Dictionary<string, string> { [PeerSettings.DhtBootstrap.EnvironmentVariable] = bootstrap });

        await net.WaitMeshAsync();
        var statuses = await net.WaitConvergedAsync(3);
        Assert.Equal(["peer-1", "peer-2", "peer-3"], statuses["peer-4"].GetProperty("connectedPeers").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));
        var dht = statuses["peer-4"].GetProperty("dht");
        Assert.True(dht.GetProperty("nodes").GetInt32() >= 3, $"peer-4's DHT knows {dht.GetProperty("nodes")} nodes; it met peer-1's and, through it, the other two");
    }
}
