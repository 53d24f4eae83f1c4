using Testbed.Chaos.Execution;
using Testbed.Contracts;
using Testbed.Contracts.Peers;

namespace Testbed.Chaos.Tests.Execution;

/// <summary>The chaos side of the typed peer contracts: what a peer serves is read as the same records, and anything else is refused by name.</summary>
public sealed class PeerApiClientTests
{
    [Fact]
    public async Task A_status_served_as_the_contract_reads_back_equal()
    {
        var served = PeerStatuses.Of("peer-3") with
        {
            Height = 7,
            Swarm = "127.0.0.3:4000",
            Dht = new DhtStatus("127.0.0.3:6881", 5, 2, 3),
            ConnectedPeers = [new ConnectedPeer("peer-1", "ab", "127.0.0.1:4000", 7)],
            ActiveFaults = new Dictionary<string, FaultSettings> { ["clock-skew"] = new() { SkewMs = -500 } },
        };
        await using var peer = await StandInPeer.StartAsync(() => Results.Json(served));
        using var http = new HttpClient();

        var read = await new PeerApiClient(http).GetStatusAsync(peer.Url, CancellationToken.None);

        // Records holding lists compare them by reference; the wire form compares everything.
        Assert.Equal(JsonSerializer.Serialize(served, ContractJson.Options), JsonSerializer.Serialize(read, ContractJson.Options));
        Assert.Equal(-500, read.ActiveFaults["clock-skew"].SkewMs);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.3"), 4000), read.SwarmListener());
    }

    [Theory]
    [InlineData("""{"peer":"peer-1","height":0}""", "missing required properties including: 'address'")]
    [InlineData("""{"peer":null}""", "peer")]
    [InlineData("""[1,2]""", "PeerStatus")]
    public async Task A_status_missing_what_the_contract_requires_is_refused_naming_it(string body, string named)
    {
        await using var peer = await StandInPeer.StartAsync(() => Results.Text(body, "application/json"));
        using var http = new HttpClient();

        var error = await Assert.ThrowsAsync<ChaosStepException>(() => new PeerApiClient(http).GetStatusAsync(peer.Url, CancellationToken.None));

        Assert.Contains("not a PeerStatus", error.Message, StringComparison.Ordinal);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
