namespace Testbed.Inspector.Tests;

/// <summary>
/// The peer comparison over spans shaped as the real peer service sends them (seen in the real-testbed browser test):
/// the miner's root is block.produce, results are the chain's AddBlockStatus names and the miner's "found", and the
/// miner's announce (to every peer) is not compared with the receivers' relays.
/// </summary>
public sealed class RealPeerVocabularyTests
{
    private const string Trace = "0af7651916cd43dd8448eb211c80319c";
    private const string Hash = "00ec7df2868e50e483575f96399c88b63ca2254bc4a00b5bff76493b5cff0abb";
    private const string Root = "6646f8c756004d6307f04eb0de8530bbd649850f0f46b3427a085e6fe30e20ba";
    private int _nextSpan;

    [Fact]
    public void Accepting_results_are_not_failures_and_the_miners_announce_is_no_outlier()
    {
        var spans = new List<SpanRecord>
        {
            Span("peer-1", "block.produce", 0, 110, ("block.hash", Hash), ("result", "Connected")),
            Span("peer-1", "block.mine", 10, 39, ("block.hash", Hash), ("result", "found")),
            Span("peer-1", "vm.replay", 80, 1, ("vm.state_root", Root)),
            // The miner announces to every peer; a receiver's announce only relays: 10x longer, and not an outlier.
            Span("peer-1", "block.announce", 100, 9, ("block.hash", Hash)),
        };
        foreach (var (peer, offset) in new[] { ("peer-2", 115), ("peer-3", 118), ("peer-4", 116) })
        {
            spans.Add(Span(peer, "block.receive", offset, 70, ("block.hash", Hash), ("result", "Connected")));
            spans.Add(Span(peer, "torrent.download", offset + 1, 35));
            spans.Add(Span(peer, "block.verify.signature", offset + 40, 0.5, ("block.hash", Hash), ("result", "ok")));
            spans.Add(Span(peer, "vm.replay", offset + 50, 1, ("vm.state_root", Root)));
            spans.Add(Span(peer, "block.announce", offset + 68, 0.6, ("block.hash", Hash)));
        }

        var block = Assert.Single(PeerComparison.Build(Trace, spans, []));
        Assert.Equal("peer-1", block.Miner);
        Assert.Equal(0, block.Problems);
        Assert.Equal(0, block.Outliers);
        Assert.Equal(0, block.DivergentPeers);
        var miner = block.Peers.Single(p => p.Peer == "peer-1");
        Assert.Equal("block.produce", miner.Stages[0].Name);
        Assert.DoesNotContain(block.Peers.SelectMany(p => p.Stages), s => s.Failed || s.Outlier);
    }

    [Fact]
    public void A_rejected_block_and_a_failed_download_are_failures()
    {
        var spans = new List<SpanRecord>
        {
            Span("peer-1", "block.produce", 0, 50, ("block.hash", Hash), ("result", "Connected")),
            Span("peer-2", "block.receive", 60, 20, ("block.hash", Hash), ("result", "Rejected")),
            Span("peer-3", "block.receive", 60, 20, ("block.hash", Hash), ("result", "download_failed")),
            Span("peer-4", "block.receive", 60, 20, ("block.hash", Hash), ("result", "Orphan")),
        };

        var block = Assert.Single(PeerComparison.Build(Trace, spans, []));
        Assert.False(block.Peers.Single(p => p.Peer == "peer-1").Stages.Single().Failed);
        foreach (var peer in new[] { "peer-2", "peer-3", "peer-4" })
        {
            var timeline = block.Peers.Single(p => p.Peer == peer);
            Assert.True(timeline.Stages.Single().Failed, peer);
            Assert.Contains(timeline.Problems, p => p.StartsWith("block.receive failed", StringComparison.Ordinal));
        }
    }

    private SpanRecord Span(string peer, string name, double startMs, double durationMs, params (string Key, string Value)[] attributes)
    {
        var start = 1_800_000_000_000_000_000L + (long)(startMs * 1e6);
        var id = (++_nextSpan).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        return new SpanRecord(Trace, id, null, name, "Internal", start, start + (long)(durationMs * 1e6), "Unset", null, peer, null, peer, "Testbed.Peer",
            [new("testbed.peer", peer), .. attributes.Select(a => new SpanAttribute(a.Key, a.Value))]);
    }
}
