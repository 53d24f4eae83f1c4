namespace Testbed.Peer.Tests;

/// <summary>A download whose source is killed is given up at once and the blocks come from another peer that has them.</summary>
[Collection(nameof(PeerProcesses))]
public sealed class SourceFailoverTests(ITestOutputHelper output)
{
    /// <summary>Longer than <see cref="PeerNetwork.Patience"/>: a download that waited out its timeout could not pass.</summary>
    private static readonly Dictionary<string, string> LongDownloads = new() { [PeerSettings.DownloadTimeoutSeconds.EnvironmentVariable] = "300" };

    [Fact]
    public async Task Blocks_whose_only_offering_peer_is_killed_before_serving_them_are_fetched_from_another_peer_that_has_them()
    {
        await using var net = await PeerNetwork.StartAsync(output);
        foreach (var name in new[] { "peer-1", "peer-2", "peer-3" })
        {
            await net.StartPeerAsync(name, LongDownloads);
        }

        await net.WaitMeshAsync();

        // peer-2 fetches blocks only by catch-up (it ignores announcements), and sleeps while peer-1 mines.
        using (var response = await net["peer-2"].Http.PostAsJsonAsync("faults/drop-announcements", new { share = 1.0 }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        net["peer-2"].Pause();
        var mined = (await net.MineAsync("peer-1", 3)).EnumerateArray().Select(b => b.GetProperty("hash").GetString()!).ToArray();
        await WaitAsync("peer-3 has peer-1's blocks", async () => (await net.StatusAsync("peer-3")).GetProperty("tipHash").GetString() == mined[^1]);

        // peer-3 freezes with its connections open, so peer-2's request for the segment waits on it while peer-1 offers it
        // at once: peer-1 is then the segment's only source, and it is killed before peer-2 has downloaded anything.
        net["peer-3"].Pause();
        net["peer-2"].Resume();
        await WaitAsync("peer-2 catching up", async () => (await net.StatusAsync("peer-2")).GetProperty("sync").GetProperty("running").GetBoolean());
        var killed = Stopwatch.StartNew();
        net.Kill("peer-1");

        // peer-2 waits at most 5 s for the frozen peer-3's offer; peer-3 wakes after that, still holding the blocks.
        await Task.Delay(TimeSpan.FromSeconds(6));
        net["peer-3"].Resume();

        var statuses = await net.WaitConvergedAsync(3);
        output.WriteLine($"peer-2 has the blocks {killed.Elapsed.TotalSeconds:0.0} s after peer-1 was killed; sync: {statuses["peer-2"].GetProperty("sync")}");
        Assert.Equal(mined[^1], statuses["peer-2"].GetProperty("tipHash").GetString());
        var log = await net["peer-2"].Http.GetFromJsonAsync<JsonElement>("blocklog");
        var synced = log.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("via").GetString() == "sync").ToArray();
        Assert.Equal(mined, synced.Select(e => e.GetProperty("hash").GetString()));
        Assert.All(synced, e => Assert.Equal("peer-3", e.GetProperty("from").GetString()));
    }

    private async Task WaitAsync(string what, Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < PeerNetwork.Patience, $"not {what} within {PeerNetwork.Patience.TotalSeconds} s");
            await Task.Delay(100);
        }

        output.WriteLine($"{what} after {deadline.Elapsed.TotalSeconds:0.0} s");
    }
}
