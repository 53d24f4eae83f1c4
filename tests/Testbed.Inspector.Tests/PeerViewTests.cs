namespace Testbed.Inspector.Tests;

/// <summary>
/// The peer comparison, chain and peer views over spans that synthetic peers make with the OpenTelemetry SDK, rendered as
/// the dashboard's telemetry API renders them (every attribute a string) and read back through the inspector's parser.
/// </summary>
public sealed class PeerViewTests
{
    private const string Root = "5a17e0000000000000000000000000000000000000000000000000000000beef";

    [Fact]
    public void Peer_comparison_lines_up_every_peer_and_flags_the_divergent_root_the_slow_download_and_the_fault()
    {
        var t0 = DateTime.UtcNow.AddSeconds(-5);
        using var peers = SyntheticPeers.InMemory(5);
        var traceId = peers.EmitBlock(12, "0000aa01", t0, Root, miner: 0, divergent: 3, slow: 2);
        peers.EmitFault("partition", "peer-3", t0.AddMilliseconds(60), 500);
        peers.EmitFault("latency", "peer-2", t0.AddSeconds(-30), 100); // long before the block: not on its timeline
        var store = StoreOf(peers);

        var block = Assert.Single(PeerComparison.ForTrace(store, traceId));
        Assert.Equal("0000aa01", block.BlockHash);
        Assert.Equal("12", block.Height);
        Assert.Equal("peer-1", block.Miner);
        Assert.Equal(Root, block.MajorityStateRoot);
        Assert.Equal(1, block.DivergentPeers);
        var rows = block.Peers.ToDictionary(p => p.Peer);
        Assert.Equal(["peer-1", "peer-2", "peer-3", "peer-4", "peer-5"], block.Peers.Select(p => p.Peer));
        Assert.True(rows["peer-4"].Diverged);
        Assert.Contains("differs from the majority", rows["peer-4"].Problems[0], StringComparison.Ordinal);
        Assert.False(rows["peer-2"].Diverged);

        // The miner produces, mines, signs, replays and announces; every receiver receives, downloads, verifies and replays.
        Assert.Equal(["block.produce", "block.mine", "block.sign", "block.announce", "vm.replay"], rows["peer-1"].Stages.Select(s => s.Name));
        Assert.Equal(["block.receive", "torrent.download", "block.verify.signature", "block.verify.pow", "block.verify.transactions", "vm.replay"],
            rows["peer-2"].Stages.Select(s => s.Name));
        var slowDownload = rows["peer-3"].Stages.Single(s => s.Name == "torrent.download");
        Assert.True(slowDownload.Outlier);
        Assert.True(rows["peer-3"].Outlier);
        Assert.False(rows["peer-2"].Outlier);
        Assert.DoesNotContain(block.Peers.SelectMany(p => p.Stages), s => s.Failed);

        var fault = Assert.Single(block.Faults);
        Assert.Equal("partition", fault.Kind);
        Assert.Equal("peer-3", fault.Targets);

        var listed = Assert.Single(PeerComparison.List(store, 10));
        Assert.Equal(traceId, listed.TraceId);
        Assert.Equal(5, listed.PeerCount);
        Assert.Equal(2, PeerComparison.Faults(store).Count);
    }

    [Fact]
    public void Peers_without_testbed_peer_are_named_by_their_service_name()
    {
        using var peers = SyntheticPeers.InMemory(3, tagPeer: false);
        var traceId = peers.EmitBlock(1, "0001", DateTime.UtcNow, Root);
        var block = Assert.Single(PeerComparison.ForTrace(StoreOf(peers), traceId));
        Assert.Equal(["peer-1", "peer-2", "peer-3"], block.Peers.Select(p => p.Peer));
        Assert.Equal("peer-1", block.Miner);
        Assert.All(block.Peers, p => Assert.Equal(Root, p.StateRoot));
    }

    [Fact]
    public void Chain_view_shows_heights_per_peer_forks_and_reorgs()
    {
        var t0 = DateTime.UtcNow.AddSeconds(-30);
        using var peers = SyntheticPeers.InMemory(3);
        peers.EmitBlock(1, "0001", t0, Root);
        peers.EmitBlock(2, "0002", t0.AddSeconds(2), Root, miner: 1);
        peers.EmitBlock(3, "0003a", t0.AddSeconds(4), Root, miner: 0);
        peers.EmitBlock(3, "0003b", t0.AddSeconds(4.1), Root, miner: 2);
        peers.EmitReorg(2, 1, "0003b", "0003a", t0.AddSeconds(6));
        peers.EmitFault("kill", "peer-2", t0.AddSeconds(5), 800);

        var chain = ChainView.Build(StoreOf(peers));
        Assert.Equal(["peer-1", "peer-2", "peer-3"], chain.Peers.Select(p => p.Peer));
        Assert.All(chain.Peers, p => Assert.Equal(3, p.TipHeight));
        var reorg = Assert.Single(chain.Reorgs);
        Assert.Equal("peer-3", reorg.Peer);
        Assert.Equal("1", reorg.Depth);
        var fork = Assert.Single(chain.Forks);
        Assert.Equal(3, fork.Height);
        Assert.Equal(["0003a", "0003b"], fork.Hashes);
        Assert.Equal("kill", Assert.Single(chain.Faults).Kind);
        // vm.replay carries no block.hash: its height point is named by the hash of its trace's other spans.
        Assert.Contains(chain.Peers.Single(p => p.Peer == "peer-2").Points, p => p.Span == "vm.replay" && p.BlockHash == "0001");
    }

    [Fact]
    public void Peer_view_lists_a_peers_blocks_by_role_its_failures_and_the_faults_aimed_at_it()
    {
        var t0 = DateTime.UtcNow.AddSeconds(-10);
        using var peers = SyntheticPeers.InMemory(3);
        var first = peers.EmitBlock(1, "0001", t0, Root, miner: 0);
        var second = peers.EmitBlock(2, "0002", t0.AddSeconds(1), Root, miner: 1, rejectedBy: 2);
        peers.EmitFault("drop-announcements", "peer-3,peer-2", t0.AddSeconds(2), 100);
        peers.EmitFault("latency", "peer-1", t0.AddSeconds(2), 100);
        var store = StoreOf(peers);

        var view = PeerView.Build(store, "peer-3");
        Assert.NotNull(view);
        Assert.Equal(["peer-3"], view.Services);
        Assert.Equal([second, first], view.Blocks.Select(b => b.TraceId));
        Assert.All(view.Blocks, b => Assert.Equal("receiver", b.Role));
        var rejected = view.Blocks[0];
        Assert.Contains("block.receive failed (Rejected)", rejected.Problems);
        Assert.Contains("received but not replayed", rejected.Problems);
        var failure = Assert.Single(view.Failures);
        Assert.Equal(("block.receive", "Rejected", "0002"), (failure.Name, failure.Result, failure.BlockHash));
        Assert.Equal("drop-announcements", Assert.Single(view.Faults).Kind);
        Assert.Equal(1, view.TipHeight);

        var miner = PeerView.Build(store, "peer-2")!;
        Assert.Equal(1, miner.BlocksMined);
        Assert.Equal(1, miner.BlocksReceived);
        Assert.Empty(miner.Failures);
        Assert.Null(PeerView.Build(store, "peer-9"));
        Assert.Equal(["peer-1", "peer-2", "peer-3"], PeerView.List(store).Select(p => p.Peer));
        Assert.Equal(1, PeerView.List(store).Single(p => p.Peer == "peer-3").Failures);
    }

    [Fact]
    public void Natural_order_puts_peer_2_before_peer_10()
    {
        string[] names = ["peer-10", "peer-2", "peer-1", "chaos", "peer-02x"];
        Assert.Equal(["chaos", "peer-1", "peer-2", "peer-02x", "peer-10"], names.Order(NaturalComparer.Instance));
    }

    /// <summary>The peers' spans as the dashboard's stream sends them, read by the inspector's parser into a store.</summary>
    internal static SpanStore StoreOf(SyntheticPeers peers)
    {
        var store = new SpanStore(1_000, 100_000, 1_000);
        foreach (var line in DashboardJson.StreamLines(peers.Exported))
        {
            var batch = OtlpSpanJson.ParseTelemetryData(System.Text.Encoding.UTF8.GetBytes(line), SpanLimits.Default, "test line");
            Assert.Equal(0, batch.Rejected);
            store.Add(batch.Spans);
        }

        return store;
    }
}
