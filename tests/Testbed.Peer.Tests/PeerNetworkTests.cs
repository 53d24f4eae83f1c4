using Testbed.Ledger.Transactions;
using Testbed.Ledger.Wallets;

namespace Testbed.Peer.Tests;

/// <summary>One collection: each test starts its own tracker and peers, and they run one after another so two cores suffice.</summary>
[CollectionDefinition(nameof(PeerProcesses), DisableParallelization = true)]
public sealed class PeerProcesses;

/// <summary>Several real peer processes and a real tracker on loopback: convergence, tampering, crashes, late joiners.</summary>
[Collection(nameof(PeerProcesses))]
public sealed class PeerNetworkTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Peers_converge_on_the_same_tip_and_state_root_with_gossiped_transactions()
    {
        await using var net = await PeerNetwork.StartAsync(output);
        foreach (var name in new[] { "peer-1", "peer-2", "peer-3" })
        {
            await net.StartPeerAsync(name);
        }

        await net.WaitMeshAsync();

        // An unsigned contract the peer signs, and a transaction signed elsewhere, each posted to a peer that will not mine it.
        using (var response = await net["peer-2"].Http.PostAsJsonAsync("tx", new { actions = new[] { new { action = "register_student", student = new { id = "s1", name = "Ada" } } } }))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        using var outsider = Wallet.CreateEphemeral();
        var signed = SignedTransaction.Create(outsider, 0, """[{"action":"add_course","course":{"id":"c1","title":"Torrents"}}]""");
        using (var response = await net["peer-3"].Http.PostAsJsonAsync("tx", new { token = signed.Token }))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await net.WaitForAsync("transactions gossiped", s => s.Values.All(v => v.GetProperty("mempool").GetInt32() == 2));
        var first = (await net.MineAsync("peer-1", 1))[0].GetProperty("hash").GetString()!;
        await net.WaitConvergedAsync(1);

        // One block is one trace: the receivers' spans continue the traceparent the miner announced.
        var minerTrace = await TraceOfAsync(net, "peer-1", first);
        Assert.Equal("mined", minerTrace.GetProperty("via").GetString());
        foreach (var name in new[] { "peer-2", "peer-3" })
        {
            var received = await TraceOfAsync(net, name, first);
            Assert.Equal("announce", received.GetProperty("via").GetString());
            Assert.Equal(minerTrace.GetProperty("traceId").GetString(), received.GetProperty("traceId").GetString());
        }

        await net.MineAsync("peer-1", 1);
        await net.MineAsync("peer-3", 2);
        var statuses = await net.WaitConvergedAsync(4);

        foreach (var name in net.Names)
        {
            var state = await net[name].Http.GetStringAsync("state");
            Assert.Contains("\"s1\"", state, StringComparison.Ordinal);
            Assert.Contains("\"c1\"", state, StringComparison.Ordinal);
            Assert.Equal(0, statuses[name].GetProperty("mempool").GetInt32());
        }

        // The chain and block endpoints agree with the status.
        var tip = statuses["peer-2"].GetProperty("tipHash").GetString()!;
        var chain = await net["peer-2"].Http.GetFromJsonAsync<JsonElement>("chain?from=1");
        Assert.Equal(tip, chain.GetProperty("blocks").EnumerateArray().Last().GetProperty("hash").GetString());
        var block = await net["peer-1"].Http.GetFromJsonAsync<JsonElement>($"blocks/{tip}");
        Assert.True(block.GetProperty("onMainChain").GetBoolean());
        Assert.StartsWith("eyJ", block.GetProperty("token").GetString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The peer's timing record of <paramref name="hash"/>. A receiver records it just after the block joins its chain, so
    /// a /status that already shows the block may come a moment before /timings does: wait for it, briefly.
    /// </summary>
    private static async Task<JsonElement> TraceOfAsync(PeerNetwork net, string peer, string hash)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var timings = await net[peer].Http.GetFromJsonAsync<JsonElement>("timings");
            var matches = timings.GetProperty("blocks").EnumerateArray().Where(t => t.GetProperty("hash").GetString() == hash).ToList();
            if (matches.Count > 0 || DateTime.UtcNow > deadline)
            {
                return Assert.Single(matches);
            }

            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Bad_requests_get_400_with_problem_details()
    {
        await using var net = await PeerNetwork.StartAsync(output);
        var peer = await net.StartPeerAsync("peer-1");
        async Task Expect400(HttpResponseMessage response, string fragment)
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Contains(fragment, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
        }

        await Expect400(await peer.Http.GetAsync("chain?from=-1"), "'from'");
        await Expect400(await peer.Http.GetAsync("chain?count=100000"), "'count'");
        await Expect400(await peer.Http.GetAsync("blocks/not-a-hash"), "not a block hash");
        await Expect400(await peer.Http.PostAsync("tx", new StringContent("{nope", System.Text.Encoding.UTF8, "application/json")), "not valid JSON");
        await Expect400(await peer.Http.PostAsJsonAsync("tx", new { token = "a.b.c" }), "transaction rejected");
        await Expect400(await peer.Http.PostAsJsonAsync("tx", new { actions = new[] { new { action = "no_such_action" } } }), "unknown action");
        await Expect400(await peer.Http.PostAsJsonAsync("mining", new { action = "fly" }), "'action'");
        await Expect400(await peer.Http.PostAsJsonAsync("mining", new { action = "mine", blocks = 0 }), "'blocks'");
        await Expect400(await peer.Http.PostAsJsonAsync("faults/no-such-fault", new { }), "unknown fault");
        await Expect400(await peer.Http.PostAsJsonAsync("faults/corrupt-pieces", new { share = 2.0 }), "share");
        using var unknown = await peer.Http.GetAsync($"blocks/{new string('0', 64)}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_tampered_block_is_rejected_by_every_other_peer_and_its_sender_banned()
    {
        await using var net = await PeerNetwork.StartAsync(output);
        foreach (var name in new[] { "peer-1", "peer-2", "peer-3" })
        {
            await net.StartPeerAsync(name);
        }

        await net.WaitMeshAsync();
        await net.MineAsync("peer-1", 1);
        await net.WaitConvergedAsync(1);

        // Read while peer-3 is still connected: once its bad block reaches peer-1, peer-1 bans it and drops the connection,
        // which can happen before the mine request below even returns.
        var peer3Id = (await net.StatusAsync("peer-1")).GetProperty("connectedPeers").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "peer-3").GetProperty("peerId").GetString();

        // peer-3 signs with a key that is not the miner's.
        using (var response = await net["peer-3"].Http.PostAsJsonAsync("faults/wrong-key", new { }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var faulty = (await net.MineAsync("peer-3", 1))[0];
        Assert.True(faulty.GetProperty("faulty").GetBoolean());
        var peer3 = await net.StatusAsync("peer-3");
        Assert.True(peer3.GetProperty("activeFaults").TryGetProperty("wrong-key", out _));

        await net.WaitForAsync("peer-3 banned by peer-1 and peer-2", s =>
            new[] { "peer-1", "peer-2" }.All(n => s[n].GetProperty("banned").EnumerateArray().Any(b =>
                b.GetProperty("peerId").GetString() == peer3Id && b.GetProperty("reason").GetString()!.Contains("KidMismatch", StringComparison.Ordinal))));
        foreach (var name in new[] { "peer-1", "peer-2" })
        {
            using var lookup = await net[name].Http.GetAsync($"blocks/{faulty.GetProperty("hash").GetString()}");
            Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
            Assert.Equal(1, (await net.StatusAsync(name)).GetProperty("height").GetInt64());
        }

        // The hook is reversible and its state visible.
        using (var response = await net["peer-3"].Http.DeleteAsync("faults/wrong-key"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.False((await net.StatusAsync("peer-3")).GetProperty("activeFaults").TryGetProperty("wrong-key", out _));

        // Too little work is refused too: peer-2 now mines a block whose hash misses the difficulty.
        using (var response = await net["peer-2"].Http.PostAsJsonAsync("faults/low-work", new { }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var weak = (await net.MineAsync("peer-2", 1))[0];
        await net.WaitForAsync("peer-2 banned by peer-1 for insufficient work", s =>
            s["peer-1"].GetProperty("banned").EnumerateArray().Any(b => b.GetProperty("reason").GetString()!.Contains("InsufficientWork", StringComparison.Ordinal)));
        using (var lookup = await net["peer-1"].Http.GetAsync($"blocks/{weak.GetProperty("hash").GetString()}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
        }
    }

    [Fact]
    public async Task Peers_killed_with_SIGKILL_during_mining_and_download_restart_and_converge()
    {
        var fastMining = new Dictionary<string, string> { [PeerSettings.MiningIntervalMs.EnvironmentVariable] = "150" };
        await using var net = await PeerNetwork.StartAsync(output);
        foreach (var name in new[] { "peer-1", "peer-2", "peer-3" })
        {
            await net.StartPeerAsync(name, fastMining);
        }

        await net.WaitMeshAsync();
        var address2 = (await net.StatusAsync("peer-2")).GetProperty("address").GetString();

        // peer-2 mines continuously and is killed mid-search; peer-3 is killed while it downloads peer-1's blocks.
        await net.MiningAsync("peer-2", "start");
        await net.MiningAsync("peer-1", "start");
        await net.WaitForAsync("a few blocks mined", s => s.Values.All(v => v.GetProperty("height").GetInt64() >= 5));
        var before2 = (await net.StatusAsync("peer-2")).GetProperty("height").GetInt64();
        net["peer-2"].KillHard();
        net["peer-3"].KillHard();
        await Task.Delay(1000);
        await net.MiningAsync("peer-1", "stop");

        await net.StartPeerAsync("peer-2");
        await net.StartPeerAsync("peer-3");
        var restarted = await net.StatusAsync("peer-2");
        Assert.Equal(address2, restarted.GetProperty("address").GetString());
        Assert.True(restarted.GetProperty("height").GetInt64() >= before2 - 1, $"peer-2 came back at height {restarted.GetProperty("height")} after acknowledging {before2}");

        await net.MineAsync("peer-1", 1);
        var peer1 = await net.StatusAsync("peer-1");
        await net.WaitConvergedAsync(peer1.GetProperty("height").GetInt64());
    }

    [Fact]
    public async Task A_peer_started_late_catches_up_from_the_swarm_by_segments()
    {
        await using var net = await PeerNetwork.StartAsync(output);
        await net.StartPeerAsync("peer-1");
        await net.StartPeerAsync("peer-2");
        await net.WaitMeshAsync();
        await net.MineAsync("peer-1", 12);
        await net.MineAsync("peer-2", 8);
        await net.WaitConvergedAsync(20);

        await net.StartPeerAsync("peer-3");
        var statuses = await net.WaitConvergedAsync(20);
        var sync = statuses["peer-3"].GetProperty("sync");
        Assert.True(sync.GetProperty("segmentsDownloaded").GetInt64() >= 3, $"segments: {sync}");
        Assert.True(sync.GetProperty("blocksSynced").GetInt64() >= 20, $"blocks: {sync}");
        Assert.Equal(2, statuses["peer-3"].GetProperty("connectedPeers").GetArrayLength());

        // A clean stop (SIGTERM) and restart keeps the chain; the peer then catches up what it missed.
        Assert.True(net["peer-3"].StopGracefully(TimeSpan.FromSeconds(30)), "peer-3 did not stop on SIGTERM");
        await net.MineAsync("peer-1", 3);
        await net.StartPeerAsync("peer-3");
        Assert.True((await net.StatusAsync("peer-3")).GetProperty("height").GetInt64() >= 20);
        await net.WaitConvergedAsync(23);
    }
}
