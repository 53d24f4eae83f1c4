namespace Testbed.Peer.Tests;

/// <summary>
/// What the chaos checker reads from a real peer process: the live VM root in /status, the block log (loaded at start-up,
/// mined, boot ids across restarts), /consistency, and the broken-peer mode (Testbed:Broken), each defect doing its one
/// wrong thing and saying so in /status.
/// </summary>
[Collection(nameof(PeerProcesses))]
public sealed class AuditApiTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_honest_peer_reports_its_live_root_logs_its_blocks_and_reads_them_back_from_its_store_after_a_crash()
    {
        await using var net = await PeerNetwork.StartAsync(output);
        var peer = await net.StartPeerAsync("peer-1");
        var mined = (await net.MineAsync("peer-1", 2)).EnumerateArray().Select(b => b.GetProperty("hash").GetString()!).ToArray();

        var status = await net.StatusAsync("peer-1");
        Assert.Equal(status.GetProperty("stateRoot").GetString(), status.GetProperty("liveStateRoot").GetString());
        Assert.True(status.GetProperty("stateRootsAgree").GetBoolean());
        Assert.Equal(0, status.GetProperty("broken").GetArrayLength());
        var boot = status.GetProperty("boot").GetString();
        Assert.Equal(2, status.GetProperty("blockLogSeq").GetInt64());

        var log = await peer.Http.GetFromJsonAsync<JsonElement>("blocklog");
        Assert.Equal(boot, log.GetProperty("boot").GetString());
        var entries = log.GetProperty("entries").EnumerateArray().ToArray();
        Assert.Equal(mined, entries.Select(e => e.GetProperty("hash").GetString()));
        Assert.All(entries, e => Assert.Equal(("mined", "Connected", true), (e.GetProperty("via").GetString(), e.GetProperty("status").GetString(), e.GetProperty("accepted").GetBoolean())));
        var after = await peer.Http.GetFromJsonAsync<JsonElement>("blocklog?after=1");
        Assert.Equal(mined[1], Assert.Single(after.GetProperty("entries").EnumerateArray()).GetProperty("hash").GetString());

        var consistency = await peer.Http.GetFromJsonAsync<JsonElement>("consistency");
        Assert.True(consistency.GetProperty("consistent").GetBoolean(), consistency.ToString());
        Assert.Equal(2, consistency.GetProperty("height").GetInt64());

        peer.KillHard();
        var again = await net.StartPeerAsync("peer-1");
        var reloaded = await again.Http.GetFromJsonAsync<JsonElement>("blocklog");
        Assert.NotEqual(boot, reloaded.GetProperty("boot").GetString());
        var loaded = reloaded.GetProperty("entries").EnumerateArray().ToArray();
        Assert.Equal(mined, loaded.Select(e => e.GetProperty("hash").GetString()));
        Assert.All(loaded, e => Assert.Equal("loaded", e.GetProperty("via").GetString()));

        using var bad = await again.Http.GetAsync("blocklog?after=-1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var badDeep = await again.Http.GetAsync("consistency?deep=maybe");
        Assert.Equal(HttpStatusCode.BadRequest, badDeep.StatusCode);
    }

    [Fact]
    public async Task Lose_last_block_forgets_the_newest_block_at_start_up_and_says_it_is_broken()
    {
        await using var net = await PeerNetwork.StartAsync(output);
        var broken = new Dictionary<string, string> { [PeerSettings.Broken.EnvironmentVariable] = "lose-last-block" };
        var peer = await net.StartPeerAsync("peer-1", broken);
        var mined = (await net.MineAsync("peer-1", 3)).EnumerateArray().Select(b => b.GetProperty("hash").GetString()!).ToArray();
        Assert.Equal(["lose-last-block"], (await net.StatusAsync("peer-1")).GetProperty("broken").EnumerateArray().Select(b => b.GetString()));

        peer.KillHard();
        var again = await net.StartPeerAsync("peer-1", broken);
        var status = await net.StatusAsync("peer-1");
        Assert.Equal(2, status.GetProperty("height").GetInt64());
        Assert.Equal(mined[1], status.GetProperty("tipHash").GetString());
        var loaded = (await again.Http.GetFromJsonAsync<JsonElement>("blocklog")).GetProperty("entries").EnumerateArray();
        Assert.Equal(mined[..2], loaded.Select(e => e.GetProperty("hash").GetString()));
        Assert.True((await again.Http.GetFromJsonAsync<JsonElement>("consistency")).GetProperty("consistent").GetBoolean());
    }

    [Fact]
    public async Task Stop_mining_silently_reports_blocks_it_never_stores_and_an_unknown_mode_is_refused()
    {
        await using var net = await PeerNetwork.StartAsync(output);
        var peer = await net.StartPeerAsync("peer-1", new Dictionary<string, string> { [PeerSettings.Broken.EnvironmentVariable] = "stop-mining-silently" });
        var block = Assert.Single((await net.MineAsync("peer-1", 1)).EnumerateArray());
        Assert.Equal(1, block.GetProperty("height").GetInt64());
        Assert.False(block.GetProperty("faulty").GetBoolean());
        var status = await net.StatusAsync("peer-1");
        Assert.Equal(0, status.GetProperty("height").GetInt64());
        Assert.Equal(0, status.GetProperty("blockLogSeq").GetInt64());
        using var lookup = await peer.Http.GetAsync($"blocks/{block.GetProperty("hash").GetString()}");
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            net.StartPeerAsync("peer-2", new Dictionary<string, string> { [PeerSettings.Broken.EnvironmentVariable] = "lose-everything" }));
        Assert.Contains("exited with code 2", refused.Message, StringComparison.Ordinal);
        Assert.Contains("unknown mode 'lose-everything'", refused.Message, StringComparison.Ordinal);
    }
}
