namespace Testbed.Inspector.Tests;

/// <summary>
/// Traces holding more than one block (seen in the real-testbed browser test: two blocks mined by one request, the
/// receivers' vm.replay and torrent.download without block.hash): every stage span goes to its own block, by block.hash,
/// else block.height, else its parent chain, else torrent.infohash; a span none of them places goes to no block.
/// </summary>
public sealed class MultiBlockTraceTests
{
    private const string Trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string Hash1 = "00a1000000000000000000000000000000000000000000000000000000000001";
    private const string Hash2 = "00b2000000000000000000000000000000000000000000000000000000000002";
    private const string Root1 = "1111111111111111111111111111111111111111111111111111111111111111";
    private const string Root2 = "2222222222222222222222222222222222222222222222222222222222222222";
    private int _nextSpan;

    [Fact]
    public void Two_blocks_mined_by_one_request_are_each_compared_with_their_own_replays_and_downloads()
    {
        var t0 = DateTime.UtcNow.AddSeconds(-5);
        using var peers = SyntheticPeers.InMemory(3);
        var traceId = peers.EmitBlocksInOneTrace(1, [Hash1, Hash2], [Root1, Root2], t0);
        var store = PeerViewTests.StoreOf(peers);

        var blocks = PeerComparison.ForTrace(store, traceId);
        Assert.Equal([Hash1, Hash2], blocks.Select(b => b.BlockHash));
        foreach (var (block, height, root) in new[] { (blocks[0], "1", Root1), (blocks[1], "2", Root2) })
        {
            Assert.Equal(height, block.Height);
            Assert.Equal("peer-1", block.Miner);
            Assert.Equal(root, block.MajorityStateRoot);
            Assert.Equal(0, block.Problems);
            Assert.Equal(["peer-1", "peer-2", "peer-3"], block.Peers.Select(p => p.Peer));
            foreach (var receiver in block.Peers.Where(p => p.Peer != "peer-1"))
            {
                Assert.Equal(root, receiver.StateRoot);
                Assert.DoesNotContain("received but not replayed", receiver.Problems);
                Assert.Equal(["block.receive", "torrent.download", "block.verify.signature", "block.verify.pow", "block.verify.transactions", "vm.replay"],
                    receiver.Stages.Select(s => s.Name));
                Assert.NotNull(receiver.PipelineMs);
            }

            Assert.Single(block.Peers.Single(p => p.Peer == "peer-1").Stages, s => s.Name == "vm.replay");
        }

        // The chain view names each replayed height by its own block: no fork at height 2.
        var chain = ChainView.Build(store);
        Assert.Empty(chain.Forks);
        Assert.All(chain.Peers, p => Assert.Equal((2L, Hash2), (p.TipHeight!.Value, p.TipHash!)));
        Assert.Contains(chain.Peers.Single(p => p.Peer == "peer-2").Points, p => p.Span == "vm.replay" && p.Height == 1 && p.BlockHash == Hash1);
        Assert.Equal(2, PeerComparison.List(store, 10).Count);
    }

    [Fact]
    public void A_replay_goes_to_the_block_of_its_height_even_under_another_blocks_receive()
    {
        // The shape the browser test saw: peer-2 and peer-3 replay heights 1 and 2, without block.hash and without a parent the
        // inspector holds; peer-3's replay of block 2 even ran under its receive of block 1 (an orphan connected when its parent came).
        var spans = new List<SpanRecord>
        {
            Span("peer-1", "block.produce", 0, 40, null, ("block.hash", Hash1), ("block.height", "1")),
            Span("peer-1", "vm.replay", 30, 1, null, ("block.height", "1"), ("vm.state_root", Root1)),
            Span("peer-1", "block.produce", 50, 40, null, ("block.hash", Hash2), ("block.height", "2")),
            Span("peer-1", "vm.replay", 80, 1, null, ("block.height", "2"), ("vm.state_root", Root2)),
        };
        var receive2 = Span("peer-2", "block.receive", 100, 30, null, ("block.hash", Hash1), ("block.height", "1"), ("result", "Connected"));
        spans.Add(receive2);
        spans.Add(Span("peer-2", "vm.replay", 120, 1, null, ("block.height", "1"), ("vm.state_root", Root1)));
        spans.Add(Span("peer-2", "block.receive", 140, 30, null, ("block.hash", Hash2), ("block.height", "2"), ("result", "Connected")));
        spans.Add(Span("peer-2", "vm.replay", 160, 1, null, ("block.height", "2"), ("vm.state_root", Root2)));
        var receive3 = Span("peer-3", "block.receive", 100, 50, null, ("block.hash", Hash1), ("block.height", "1"), ("result", "Connected"));
        spans.Add(receive3);
        spans.Add(Span("peer-3", "vm.replay", 120, 1, receive3.SpanId, ("block.height", "1"), ("vm.state_root", Root1)));
        spans.Add(Span("peer-3", "vm.replay", 130, 1, receive3.SpanId, ("block.height", "2"), ("vm.state_root", Root2)));
        spans.Add(Span("peer-3", "block.receive", 98, 10, null, ("block.hash", Hash2), ("block.height", "2"), ("result", "Orphan")));
        spans.Add(Span("peer-3", "block.connect", 128, 10, receive3.SpanId, ("block.hash", Hash2), ("block.height", "2"), ("result", "Connected")));

        var blocks = PeerComparison.Build(Trace, spans, []);
        Assert.Equal([Hash1, Hash2], blocks.Select(b => b.BlockHash));
        Assert.All(blocks[0].Peers, p => Assert.Equal(Root1, p.StateRoot));
        Assert.All(blocks[1].Peers, p => Assert.Equal(Root2, p.StateRoot));
        Assert.All(blocks.SelectMany(b => b.Peers), p => Assert.Single(p.Stages, s => s.Name == "vm.replay"));
        // The orphan connected once its parent came is no failure and no "received but not replayed".
        Assert.Equal(0, blocks[1].Problems);
        Assert.Equal(0, blocks[0].Problems);
    }

    [Fact]
    public void Spans_without_a_height_go_by_their_parent_chain_or_their_info_hash_and_otherwise_to_no_block()
    {
        var receive1 = Span("peer-2", "block.receive", 0, 30, null, ("block.hash", Hash1), ("block.height", "1"), ("torrent.infohash", "aa01"));
        var receive2 = Span("peer-2", "block.receive", 40, 30, null, ("block.hash", Hash2), ("block.height", "2"), ("torrent.infohash", "BB02"));
        var spans = new List<SpanRecord>
        {
            receive1,
            receive2,
            // Parent chain: a download under a span under the receive.
            Span("peer-2", "torrent.download", 1, 10, receive1.SpanId, ("torrent.infohash", "aa01")),
            // No parent held: the info hash the receive carries (case aside).
            Span("peer-2", "torrent.download", 41, 12, "00000000000000ff", ("torrent.infohash", "bb02")),
            // Nothing places these: an unknown info hash, and a height two blocks of the trace share.
            Span("peer-2", "torrent.download", 80, 5, null, ("torrent.infohash", "cc03")),
            Span("peer-3", "block.receive", 0, 30, null, ("block.hash", Hash1 + "x"), ("block.height", "7")),
            Span("peer-3", "block.receive", 0, 30, null, ("block.hash", Hash2 + "x"), ("block.height", "7")),
            Span("peer-3", "vm.replay", 10, 1, null, ("block.height", "7"), ("vm.state_root", Root1)),
        };

        var blocks = PeerComparison.Build(Trace, spans, []).ToDictionary(b => b.BlockHash);
        Assert.Equal(10, Download(blocks[Hash1]).DurationMs, 3);
        Assert.Equal(12, Download(blocks[Hash2]).DurationMs, 3);
        Assert.DoesNotContain(blocks.Values.SelectMany(b => b.Peers).SelectMany(p => p.Stages), s => s.DurationMs is > 4.9 and < 5.1 || s.Name == "vm.replay");
        Assert.Equal(["block.receive"], blocks[Hash1 + "x"].Peers.Single().Stages.Select(s => s.Name));

        static StageTiming Download(BlockComparison block) => Assert.Single(block.Peers.Single(p => p.Peer == "peer-2").Stages, s => s.Name == "torrent.download");
    }

    [Fact]
    public void A_block_hash_on_a_replay_or_download_wins_over_its_height_and_parent()
    {
        var receive1 = Span("peer-2", "block.receive", 0, 60, null, ("block.hash", Hash1), ("block.height", "1"));
        var spans = new List<SpanRecord>
        {
            receive1,
            Span("peer-2", "block.receive", 40, 30, null, ("block.hash", Hash2), ("block.height", "2")),
            Span("peer-2", "torrent.download", 1, 10, receive1.SpanId, ("block.hash", Hash2), ("torrent.infohash", "aa01")),
            Span("peer-2", "vm.replay", 50, 1, receive1.SpanId, ("block.hash", Hash2), ("block.height", "1"), ("vm.state_root", Root2)),
        };

        var blocks = PeerComparison.Build(Trace, spans, []).ToDictionary(b => b.BlockHash);
        Assert.Equal(["block.receive"], blocks[Hash1].Peers.Single().Stages.Select(s => s.Name));
        Assert.Equal(["block.receive", "torrent.download", "vm.replay"], blocks[Hash2].Peers.Single().Stages.Select(s => s.Name));
        Assert.Equal(Root2, blocks[Hash2].Peers.Single().StateRoot);
    }

    [Fact]
    public void A_catch_up_segment_gives_each_synced_block_its_own_replay()
    {
        // A peer's catch-up: chain.segment.apply (not a span the inspector keeps) encloses a block.sync per block, which
        // encloses the block's verification (block.hash, no height) and replay (block.height, no hash).
        var spans = new List<SpanRecord>();
        foreach (var (height, hash, root) in new[] { (1, Hash1, Root1), (2, Hash2, Root2) })
        {
            var sync = Span("peer-4", "block.sync", height * 40, 30, "00000000000000aa", ("block.hash", hash), ("block.height", $"{height}"), ("result", "Connected"));
            spans.Add(sync);
            spans.Add(Span("peer-4", "block.verify.signature", (height * 40) + 1, 1, sync.SpanId, ("block.hash", hash), ("result", "ok")));
            spans.Add(Span("peer-4", "vm.replay", (height * 40) + 10, 1, sync.SpanId, ("block.height", $"{height}"), ("vm.state_root", root)));
        }

        var blocks = PeerComparison.Build(Trace, spans, []);
        Assert.Equal([Hash1, Hash2], blocks.Select(b => b.BlockHash));
        Assert.Equal([Root1, Root2], blocks.Select(b => b.Peers.Single().StateRoot));
        Assert.All(blocks, b => Assert.Equal(["block.sync", "block.verify.signature", "vm.replay"], b.Peers.Single().Stages.Select(s => s.Name)));
        Assert.All(blocks, b => Assert.Equal(0, b.Problems));
    }

    [Fact]
    public void An_orphan_never_connected_stays_a_failure()
    {
        var spans = new List<SpanRecord>
        {
            Span("peer-2", "block.receive", 0, 10, null, ("block.hash", Hash2), ("block.height", "2"), ("result", "Orphan")),
            Span("peer-3", "block.receive", 0, 10, null, ("block.hash", Hash2), ("block.height", "2"), ("result", "Orphan")),
            Span("peer-3", "block.connect", 20, 10, null, ("block.hash", Hash2), ("block.height", "2"), ("result", "Rejected")),
        };

        var block = Assert.Single(PeerComparison.Build(Trace, spans, []));
        Assert.Contains("block.receive failed (Orphan)", block.Peers.Single(p => p.Peer == "peer-2").Problems);
        Assert.Contains("block.receive failed (Orphan)", block.Peers.Single(p => p.Peer == "peer-3").Problems);
        Assert.Contains("block.connect failed (Rejected)", block.Peers.Single(p => p.Peer == "peer-3").Problems);
    }

    private SpanRecord Span(string peer, string name, double startMs, double durationMs, string? parent, params (string Key, string Value)[] attributes)
    {
        var start = 1_800_000_000_000_000_000L + (long)(startMs * 1e6);
        var id = (++_nextSpan).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        return new SpanRecord(Trace, id, parent, name, "Internal", start, start + (long)(durationMs * 1e6), "Unset", null, peer, null, peer, "Testbed.Peer",
            [new("testbed.peer", peer), .. attributes.Select(a => new SpanAttribute(a.Key, a.Value))]);
    }
}
