using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Testbed.Inspector.Tests;

/// <summary>
/// Synthetic peers that make the testbed's spans (the telemetry contract, shaped as the real peer service makes them)
/// through the standard OpenTelemetry SDK, one tracer provider per peer with <c>service.name</c> peer-N, plus a chaos
/// controller (<c>service.name</c> chaos). They export either over OTLP to a real Aspire dashboard, or into memory,
/// from where <see cref="DashboardJson"/> renders them as the dashboard's telemetry API does.
/// </summary>
internal sealed class SyntheticPeers : IDisposable
{
    private readonly List<Peer> _peers = [];
    private readonly Peer _chaos;
    private readonly bool _tagPeer;

    private SyntheticPeers(int peers, bool tagPeer, Func<string, int, Action<TracerProviderBuilder>> exporter)
    {
        _tagPeer = tagPeer;
        for (var i = 1; i <= peers; i++)
        {
            _peers.Add(new Peer($"peer-{i}", exporter($"peer-{i}", i)));
        }

        _chaos = new Peer("chaos", exporter("chaos", 0));
    }

    /// <summary>Peers exporting over OTLP: odd peers over gRPC to <paramref name="grpc"/>, even ones and chaos over http/protobuf to <paramref name="http"/>.</summary>
    public static SyntheticPeers Otlp(Uri grpc, Uri http, int peers, bool tagPeer) => new(peers, tagPeer, (_, index) => builder => builder.AddOtlpExporter(o =>
    {
        var useGrpc = index % 2 == 1;
        o.Protocol = useGrpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        o.Endpoint = useGrpc ? grpc : new Uri(http, "/v1/traces");
        o.TimeoutMilliseconds = 30_000;
        o.ExportProcessorType = ExportProcessorType.Batch;
        o.BatchExportProcessorOptions = new BatchExportActivityProcessorOptions { ScheduledDelayMilliseconds = 100, MaxExportBatchSize = 512 };
    }));

    /// <summary>Peers exporting into memory (read with <see cref="Exported"/>).</summary>
    public static SyntheticPeers InMemory(int peers, bool tagPeer = true)
    {
        var collections = new Dictionary<string, List<Activity>>();
        var result = new SyntheticPeers(peers, tagPeer, (name, _) =>
        {
            var list = collections[name] = [];
            return builder => builder.AddInMemoryExporter(list);
        });
        result._memory = collections;
        return result;
    }

    private Dictionary<string, List<Activity>>? _memory;

    /// <summary>The ended activities of each service (in-memory peers only).</summary>
    public IReadOnlyDictionary<string, List<Activity>> Exported
    {
        get
        {
            Flush();
            return _memory ?? throw new InvalidOperationException("these peers export over OTLP");
        }
    }

    /// <summary>
    /// One block as one trace, as the real peers make it: the miner's block.produce encloses block.mine, block.sign,
    /// vm.replay and block.announce; every other peer's block.receive (child of the announce) encloses
    /// torrent.download, block.verify.signature/pow/transactions and vm.replay. <paramref name="divergent"/> replays to
    /// another state root; <paramref name="slow"/> downloads 10x slower; <paramref name="rejectedBy"/> refuses the block.
    /// </summary>
    public string EmitBlock(long height, string hash, DateTime t0, string stateRoot, int miner = 0, int? divergent = null, int? slow = null, int? rejectedBy = null) =>
        EmitBlockUnder(default, height, hash, t0, stateRoot, miner, divergent, slow, rejectedBy);

    /// <summary>
    /// Several blocks in one trace, as a miner's request makes them when its blocks are not roots of their own: the miner's
    /// <c>POST /mining</c> span encloses a block.produce per block, <paramref name="spacingMs"/> apart, each received by
    /// every other peer as <see cref="EmitBlock(long, string, DateTime, string, int, int?, int?, int?)"/> does; block i
    /// (height <paramref name="firstHeight"/> + i) replays to <paramref name="stateRoots"/>[i].
    /// </summary>
    public string EmitBlocksInOneTrace(long firstHeight, string[] hashes, string[] stateRoots, DateTime t0, int miner = 0, double spacingMs = 150)
    {
        var producer = _peers[miner];
        using var request = producer.Source.StartActivity("POST /mining", ActivityKind.Server, default(ActivityContext),
            _tagPeer ? [new("testbed.peer", producer.Name)] : [], startTime: t0)!;
        for (var i = 0; i < hashes.Length; i++)
        {
            EmitBlockUnder(request.Context, firstHeight + i, hashes[i], t0.AddMilliseconds(1 + (i * spacingMs)), stateRoots[i], miner, null, null, null);
        }

        request.SetEndTime(t0.AddMilliseconds((hashes.Length * spacingMs) + 1));
        return request.TraceId.ToHexString();
    }

    private string EmitBlockUnder(ActivityContext parent, long height, string hash, DateTime t0, string stateRoot, int miner, int? divergent, int? slow, int? rejectedBy)
    {
        var producer = _peers[miner];
        using var produce = producer.Source.StartActivity("block.produce", ActivityKind.Internal, parent,
            Tags(producer.Name, height, hash, ("result", "Connected")), startTime: t0)!;
        Child(producer, "block.mine", produce.Context, t0.AddMilliseconds(1), 36, Tags(producer.Name, height, hash, ("result", "found"), ("pow.difficulty_bits", 12L), ("pow.attempts", 4096L)));
        Child(producer, "block.sign", produce.Context, t0.AddMilliseconds(38), 2, Tags(producer.Name, height, hash, ("jwt.alg", "ES256")));
        Child(producer, "vm.replay", produce.Context, t0.AddMilliseconds(41), 3, Tags(producer.Name, height, null, ("vm.actions", 3L), ("vm.state_root", stateRoot)));
        var announce = Child(producer, "block.announce", produce.Context, t0.AddMilliseconds(45), 4, Tags(producer.Name, height, hash, ("net.peer", "all")), ActivityKind.Producer);
        produce.SetEndTime(t0.AddMilliseconds(50));

        for (var i = 0; i < _peers.Count; i++)
        {
            if (i == miner)
            {
                continue;
            }

            var peer = _peers[i];
            var start = t0.AddMilliseconds(55 + (i * 4));
            var download = i == slow ? 200 : 20;
            using var receive = peer.Source.StartActivity("block.receive", ActivityKind.Consumer, announce,
                Tags(peer.Name, height, hash, ("net.peer", producer.Name), ("result", i == rejectedBy ? "Rejected" : "Connected")), startTime: start)!;
            Child(peer, "torrent.download", receive.Context, start.AddMilliseconds(1), download,
                Tags(peer.Name, null, null, ("torrent.infohash", "ab" + hash), ("torrent.bytes", 1400L), ("result", "downloaded")));
            var at = start.AddMilliseconds(2 + download);
            foreach (var check in new[] { "block.verify.signature", "block.verify.pow", "block.verify.transactions" })
            {
                Child(peer, check, receive.Context, at, 2, Tags(peer.Name, null, hash, ("result", "ok")));
                at = at.AddMilliseconds(2);
            }

            if (i != rejectedBy)
            {
                Child(peer, "vm.replay", receive.Context, at, 5,
                    Tags(peer.Name, height, null, ("vm.actions", 3L), ("vm.state_root", i == divergent ? "ff" + stateRoot[2..] : stateRoot)));
            }

            receive.SetEndTime(at.AddMilliseconds(6));
        }

        return produce.TraceId.ToHexString();
    }

    /// <summary>A chain.reorg span of peer <paramref name="peer"/> (index), in a trace of its own.</summary>
    public void EmitReorg(int peer, long depth, string oldTip, string newTip, DateTime at)
    {
        var p = _peers[peer];
        Child(p, "chain.reorg", default, at, 3, Tags(p.Name, null, null, ("reorg.depth", depth), ("chain.old_tip", oldTip), ("chain.new_tip", newTip)));
    }

    /// <summary>A chaos.fault span of the chaos controller, in a trace of its own.</summary>
    public string EmitFault(string kind, string targets, DateTime at, double durationMs)
    {
        using var fault = _chaos.Source.StartActivity("chaos.fault", ActivityKind.Internal, default(ActivityContext),
            [new("chaos.kind", kind), new("chaos.targets", targets), new("chaos.scenario", "synthetic"), new("chaos.step", 1L)], startTime: at)!;
        fault.SetEndTime(at.AddMilliseconds(durationMs));
        return fault.TraceId.ToHexString();
    }

    /// <summary>Exports everything ended so far (fails the test when an exporter cannot).</summary>
    public void Flush()
    {
        foreach (var peer in _peers.Append(_chaos))
        {
            Assert.True(peer.Provider.ForceFlush(30_000), $"{peer.Name}'s exporter did not flush");
        }
    }

    public void Dispose()
    {
        foreach (var peer in _peers.Append(_chaos))
        {
            peer.Provider.Dispose();
            peer.Source.Dispose();
        }
    }

    private KeyValuePair<string, object?>[] Tags(string peer, long? height, string? hash, params (string Key, object Value)[] more)
    {
        var tags = new List<KeyValuePair<string, object?>>();
        if (_tagPeer)
        {
            tags.Add(new("testbed.peer", peer));
        }

        if (height is not null)
        {
            tags.Add(new("block.height", height.Value));
        }

        if (hash is not null)
        {
            tags.Add(new("block.hash", hash));
        }

        tags.AddRange(more.Select(m => new KeyValuePair<string, object?>(m.Key, m.Value)));
        return [.. tags];
    }

    private static ActivityContext Child(Peer peer, string name, ActivityContext parent, DateTime start, double durationMs, KeyValuePair<string, object?>[] tags, ActivityKind kind = ActivityKind.Internal)
    {
        using var activity = peer.Source.StartActivity(name, kind, parent, tags, startTime: start)!;
        activity.SetEndTime(start.AddMilliseconds(durationMs));
        return activity.Context;
    }

    private sealed class Peer
    {
        public Peer(string name, Action<TracerProviderBuilder> exporter)
        {
            Name = name;
            Source = new ActivitySource($"Synthetic.{name}.{Guid.NewGuid():N}");
            var builder = Sdk.CreateTracerProviderBuilder()
                .AddSource(Source.Name)
                .SetSampler(new AlwaysOnSampler())
                .ConfigureResource(r => r.Clear().AddService(name, serviceInstanceId: name + "-" + Guid.NewGuid().ToString("N")[..6]));
            exporter(builder);
            Provider = builder.Build()!;
        }

        public string Name { get; }

        public ActivitySource Source { get; }

        public TracerProvider Provider { get; }
    }
}
