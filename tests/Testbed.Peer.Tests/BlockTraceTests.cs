using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Testbed.Contracts.Peers;
using Testbed.Ledger;
using Testbed.Peer.Faults;
using Testbed.Peer.Hosting;

namespace Testbed.Peer.Tests;

/// <summary>
/// Where a receiving peer's block verification lands in the traces (seen in the real testbed: about a second after a
/// 2-block mine, block.verify.* of both blocks came as one-span root traces). Two peers run in this process and an
/// <see cref="ActivityListener"/> records every span they end: a block that arrives before its parent is verified,
/// replayed and announced on in its own announce's trace once the parent comes; catch-up verifies under its segment's
/// span, and does not verify the blocks it already holds.
/// </summary>
[Collection(nameof(PeerProcesses))]
public sealed class BlockTraceTests : IDisposable
{
    private static readonly ActivitySource TestSource = new("Testbed.Peer.Tests.BlockTraces");
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly string[] Verifications = ["block.verify.signature", "block.verify.pow", "block.verify.transactions"];

    private readonly ITestOutputHelper _output;
    private readonly string _run = Guid.NewGuid().ToString("n")[..8];
    private readonly string _root;
    private readonly ConcurrentQueue<Activity> _ended = new();
    private readonly ActivityListener _listener;
    private readonly List<PeerNode> _nodes = [];

    public BlockTraceTests(ITestOutputHelper output)
    {
        _output = output;
        _root = Path.Combine(Path.GetTempPath(), "testbed-peer-tests", "traces-" + _run);
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("Testbed.", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _ended.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task A_block_that_arrives_before_its_parent_is_verified_replayed_and_announced_on_in_its_own_trace()
    {
        var miner = await StartAsync("miner");
        var receiver = await StartAsync("receiver");
        // Withheld: mined onto the miner's chain, announced by the test in the order it wants, hidden from catch-up.
        miner.Faults.Set("withhold", new FaultSettings());
        var mined = await miner.Miner.MineAsync(2, CancellationToken.None);
        var (hash1, hash2) = (Hash256.Parse(mined[0].Hash), Hash256.Parse(mined[1].Hash));
        await ConnectAsync(receiver, miner);

        var trace2 = await AnnounceAsync(miner, hash2, 2);
        await WaitForAsync("block 2 kept as an orphan", () => Spans(receiver, "block.receive", hash2).Any(s => Result(s) == "Orphan"));
        var trace1 = await AnnounceAsync(miner, hash1, 1);
        await WaitForAsync("block 2 connected and announced on", () => receiver.Chain.Tip.Height == 2 && Spans(receiver, "block.announce", hash2).Any());
        Report(receiver);

        // Block 1 is received, verified and replayed in its trace.
        Assert.All(Spans(receiver, null, hash1), s => Assert.Equal(trace1, s.TraceId));
        // Block 2: every verification (at the receive that found it an orphan, and when it connected), its replay, its onward
        // announce, all in block 2's trace, none in block 1's, none a root of its own.
        var block2 = Spans(receiver, null, hash2).ToArray();
        Assert.Equal(Verifications.Order(StringComparer.Ordinal),
            block2.Select(s => s.OperationName).Where(Verifications.Contains).Distinct().Order(StringComparer.Ordinal));
        Assert.All(block2, s => Assert.Equal(trace2, s.TraceId));
        var replay2 = Assert.Single(Spans(receiver, "vm.replay", null), s => Tag(s, "block.height") == "2");
        Assert.Equal(trace2, replay2.TraceId);
        var receive2 = Assert.Single(Spans(receiver, "block.receive", hash2));
        var connect2 = Assert.Single(Spans(receiver, "block.connect", hash2));
        Assert.Equal(receive2.SpanId, connect2.ParentSpanId);
        Assert.Equal("Connected", Result(connect2));
        Assert.Equal(connect2.SpanId, replay2.ParentSpanId);
        Assert.Equal(trace2, Assert.Single(Spans(receiver, "block.announce", hash2)).TraceId);
        Assert.DoesNotContain(Spans(receiver, null, null), s => Verifications.Contains(s.OperationName) && s.ParentSpanId == default);
    }

    [Fact]
    public async Task Catch_up_verifies_under_its_segment_span_and_not_again_for_blocks_it_holds()
    {
        var miner = await StartAsync("miner");
        var mined = await miner.Miner.MineAsync(2, CancellationToken.None);
        var receiver = await StartAsync("receiver");
        await ConnectAsync(receiver, miner);
        await WaitForAsync("caught up", () => receiver.Chain.Tip.Height == 2 && receiver.Sync.BlocksSynced == 2 && !receiver.Sync.Running);
        Report(receiver);

        var verifications = Spans(receiver, null, null).Where(s => Verifications.Contains(s.OperationName)).ToArray();
        Assert.Equal(6, verifications.Length);
        Assert.Equal(mined.Select(m => m.Hash).Order(StringComparer.Ordinal), verifications.Select(s => Tag(s, "block.hash")!).Distinct().Order(StringComparer.Ordinal));
        var apply = Assert.Single(Spans(receiver, "chain.segment.apply", null));
        var segment = Assert.Single(Spans(receiver, "chain.segment", null), s => s.SpanId == apply.ParentSpanId);
        Assert.Equal("downloaded", Result(segment));
        Assert.Equal("0", Tag(apply, "segment.held"));
        // Each block's verification and replay under its block.sync (hash, height), under the segment's apply.
        var syncs = Spans(receiver, "block.sync", null).ToArray();
        Assert.Equal(["1", "2"], syncs.Select(s => Tag(s, "block.height")).Order(StringComparer.Ordinal));
        Assert.All(syncs, s => Assert.Equal((apply.TraceId, apply.SpanId, "Connected"), (s.TraceId, s.ParentSpanId, Result(s))));
        Assert.All(verifications, v => Assert.Equal(Tag(v, "block.hash"), Tag(Assert.Single(syncs, s => s.SpanId == v.ParentSpanId), "block.hash")));
        Assert.All(Spans(receiver, "vm.replay", null), r => Assert.Equal(Tag(r, "block.height"), Tag(Assert.Single(syncs, s => s.SpanId == r.ParentSpanId), "block.height")));

        // Asked again (its tip is in segment 0): the segment comes again, and its blocks, the same as ours, are not verified again.
        var reported = _ended.Count;
        await receiver.Sync.CatchUpAsync(CancellationToken.None);
        Report(receiver, _ended.Skip(reported));
        Assert.Equal(6, Spans(receiver, null, null).Count(s => Verifications.Contains(s.OperationName)));
        Assert.Equal(2, Spans(receiver, "block.sync", null).Count());
        var again = Assert.Single(Spans(receiver, "chain.segment.apply", null), s => s.SpanId != apply.SpanId);
        Assert.Equal("2", Tag(again, "segment.held"));
        Assert.DoesNotContain(Spans(receiver, null, null), s => s.OperationName is "block.verify.signature" or "block.verify.pow" or "block.verify.transactions" or "vm.replay" && s.ParentSpanId == default);
    }

    public void Dispose()
    {
        _listener.Dispose();
        foreach (var node in _nodes)
        {
            node.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<PeerNode> StartAsync(string role)
    {
        var name = $"{role}-{_run}";
        var node = new PeerNode(
            Options.Create(new PeerOptions
            {
                PeerName = name,
                DataDir = Path.Combine(_root, name),
                ScratchDir = Path.Combine(_root, name + "-torrents"),
                DifficultyBits = 6,
                SegmentBlocks = 8,
                DownloadTimeoutSeconds = 10,
            }),
            new ConfigurationBuilder().Build(),
            new FaultState(),
            NullLogger<PeerNode>.Instance);
        _nodes.Add(node);
        await node.StartAsync(CancellationToken.None);
        return node;
    }

    private static async Task ConnectAsync(PeerNode from, PeerNode to)
    {
        from.Swarm.Dial(to.Swarm.LocalEndPoint!);
        await WaitForAsync("the two peers connected", () => from.Swarm.Peers.Count == 1 && to.Swarm.Peers.Count == 1);
    }

    /// <summary>Announces one of the miner's blocks under a test span of its own; returns that trace.</summary>
    private static async Task<ActivityTraceId> AnnounceAsync(PeerNode miner, Hash256 hash, long height)
    {
        using var activity = TestSource.StartActivity($"test.announce.{height}", ActivityKind.Internal, default(ActivityContext))!;
        await miner.Propagator.PublishAsync(miner.Chain.GetBlockToken(hash)!, hash, height, CancellationToken.None);
        return activity.TraceId;
    }

    /// <summary>The ended spans of <paramref name="node"/> (by testbed.peer), by name and block.hash when given.</summary>
    private IEnumerable<Activity> Spans(PeerNode node, string? name, Hash256? hash) => _ended.Where(a =>
        Tag(a, "testbed.peer") == node.Name && (name is null || a.OperationName == name) && (hash is null || Tag(a, "block.hash") == hash.Value.ToString()));

    private static string? Tag(Activity activity, string key) => activity.GetTagItem(key)?.ToString();

    private static string? Result(Activity activity) => Tag(activity, "result");

    private void Report(PeerNode node, IEnumerable<Activity>? spans = null)
    {
        foreach (var span in (spans ?? _ended).Where(s => Tag(s, "testbed.peer") == node.Name).OrderBy(s => s.StartTimeUtc))
        {
            _output.WriteLine($"{span.TraceId} {span.SpanId} <- {span.ParentSpanId} {span.OperationName} hash={Tag(span, "block.hash")?[..8]} height={Tag(span, "block.height")} result={Result(span)}");
        }
    }

    private static async Task WaitForAsync(string what, Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < Patience, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}
