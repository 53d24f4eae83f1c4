namespace Testbed.Peer.Tests;

/// <summary>The withhold and corrupt-pieces fault hooks, with real peer processes.</summary>
[Collection(nameof(PeerProcesses))]
public sealed class FaultHookTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> ShortDownloads = new() { [PeerSettings.DownloadTimeoutSeconds.EnvironmentVariable] = "5" };

    [Fact]
    public async Task Withheld_blocks_are_released_and_the_heavier_branch_wins_everywhere()
    {
        await using var net = await PeerNetwork.StartAsync(output);
        await net.StartPeerAsync("peer-1", ShortDownloads);
        await net.StartPeerAsync("peer-2", ShortDownloads);
        await net.WaitMeshAsync();
        await net.MineAsync("peer-1", 1);
        await net.WaitConvergedAsync(1);

        using (var response = await net["peer-2"].Http.PostAsJsonAsync("faults/withhold", new { }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var withheld = await net.MineAsync("peer-2", 3);
        Assert.All(withheld.EnumerateArray(), b => Assert.True(b.GetProperty("withheld").GetBoolean()));
        await net.MineAsync("peer-1", 1);
        await Task.Delay(3000);
        var peer1 = await net.StatusAsync("peer-1");
        Assert.Equal(2, peer1.GetProperty("height").GetInt64());
        Assert.Equal(3, (await net.StatusAsync("peer-2")).GetProperty("mining").GetProperty("withheld").GetInt32());

        using (var response = await net["peer-2"].Http.DeleteAsync("faults/withhold"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var statuses = await net.WaitConvergedAsync(4);
        Assert.Equal(withheld.EnumerateArray().Last().GetProperty("hash").GetString(), statuses["peer-1"].GetProperty("tipHash").GetString());
    }

    [Fact]
    public async Task A_peer_serving_corrupt_pieces_is_banned_by_the_downloader()
    {
        await using var net = await PeerNetwork.StartAsync(output);
        await net.StartPeerAsync("peer-1", ShortDownloads);
        await net.StartPeerAsync("peer-2", ShortDownloads);
        await net.WaitMeshAsync();

        using (var response = await net["peer-2"].Http.PostAsJsonAsync("faults/corrupt-pieces", new { share = 1.0 }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var block = (await net.MineAsync("peer-2", 1))[0].GetProperty("hash").GetString();
        await net.WaitForAsync("peer-2 banned for corrupt pieces", s =>
            s["peer-1"].GetProperty("banned").EnumerateArray().Any(b => b.GetProperty("reason").GetString()!.Contains("corrupt pieces", StringComparison.Ordinal)));
        using var lookup = await net["peer-1"].Http.GetAsync($"blocks/{block}");
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }
}
