using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Testbed.Dashboard.Tests;

/// <summary>
/// Synthetic peers that send the testbed's spans (DESIGN.md telemetry contract) through the standard
/// OpenTelemetry SDK and OTLP exporter, one tracer provider and resource per peer, plus a chaos controller.
/// </summary>
internal sealed class SyntheticPeers : IDisposable
{
    private readonly List<(string Name, ActivitySource Source, TracerProvider Provider)> _peers = [];
    private readonly ActivitySource _chaosSource;
    private readonly TracerProvider _chaosProvider;

    public SyntheticPeers(Uri endpoint, OtlpExportProtocol protocol, int peers)
    {
        for (var i = 1; i <= peers; i++)
        {
            var name = $"peer-{i}";
            var source = new ActivitySource($"Synthetic.{name}.{Guid.NewGuid():N}");
            _peers.Add((name, source, Provider(source.Name, "peer", name, endpoint, protocol)));
        }

        _chaosSource = new ActivitySource($"Synthetic.chaos.{Guid.NewGuid():N}");
        _chaosProvider = Provider(_chaosSource.Name, "chaos", "chaos", endpoint, protocol);
    }

    public IReadOnlyList<string> Names => _peers.Select(p => p.Name).ToArray();

    /// <summary>
    /// One block as one trace: the miner mines, signs and announces; every other peer receives, downloads,
    /// verifies and replays. <paramref name="divergent"/> replays to another state root; <paramref name="slow"/> downloads 10x slower.
    /// </summary>
    public string EmitBlock(long height, string hash, DateTime t0, string stateRoot, int miner = 0, int? divergent = null, int? slow = null)
    {
        var (minerName, minerSource, _) = _peers[miner];
        using var mine = minerSource.StartActivity("block.mine", ActivityKind.Internal, default(ActivityContext),
            Tags(minerName, height, hash, ("pow.difficulty_bits", 12L), ("pow.attempts", 4096L)), startTime: t0)!;
        var announceContext = Child(minerSource, "block.announce", mine.Context, t0.AddMilliseconds(42), 3, Tags(minerName, height, hash, ("net.peer", "all")));
        Child(minerSource, "block.sign", mine.Context, t0.AddMilliseconds(38), 2, [new("testbed.peer", minerName), new("block.hash", hash), new("jwt.alg", "ES256")]);
        Child(minerSource, "vm.replay", mine.Context, t0.AddMilliseconds(46), 4,
            Tags(minerName, height, null, ("vm.actions", 3L), ("vm.steps", 120L), ("vm.state_root", stateRoot)));
        mine.SetEndTime(t0.AddMilliseconds(50));

        for (var i = 0; i < _peers.Count; i++)
        {
            if (i == miner)
            {
                continue;
            }

            var (name, source, _) = _peers[i];
            var start = t0.AddMilliseconds(55 + (i * 4));
            var download = i == slow ? 200 : 20;
            using var receive = source.StartActivity("block.receive", ActivityKind.Consumer, announceContext,
                Tags(name, height, hash, ("net.peer", minerName)), startTime: start)!;
            Child(source, "torrent.download", receive.Context, start.AddMilliseconds(1), download,
                [new("testbed.peer", name), new("torrent.infohash", "ab" + hash), new("torrent.bytes", 1400L), new("torrent.pieces", 1L), new("torrent.peers", 1L)]);
            var at = start.AddMilliseconds(2 + download);
            foreach (var check in new[] { "block.verify.signature", "block.verify.pow", "block.verify.transactions" })
            {
                Child(source, check, receive.Context, at, 2, [new("testbed.peer", name), new("block.hash", hash), new("result", "ok")]);
                at = at.AddMilliseconds(2);
            }

            Child(source, "vm.replay", receive.Context, at, 5,
                Tags(name, height, null, ("vm.actions", 3L), ("vm.steps", 120L), ("vm.state_root", i == divergent ? "ff" + stateRoot[2..] : stateRoot)));
            receive.SetEndTime(at.AddMilliseconds(6));
        }

        return mine.TraceId.ToHexString();
    }

    public void EmitReorg(int peer, long depth, string oldTip, string newTip, DateTime at)
    {
        var (name, source, _) = _peers[peer];
        Child(source, "chain.reorg", default, at, 3,
            [new("testbed.peer", name), new("reorg.depth", depth), new("chain.old_tip", oldTip), new("chain.new_tip", newTip)]);
    }

    public string EmitFault(string kind, string targets, DateTime at, double durationMs)
    {
        using var fault = _chaosSource.StartActivity("chaos.fault", ActivityKind.Internal, default(ActivityContext),
            [new("chaos.kind", kind), new("chaos.targets", targets), new("chaos.scenario", "synthetic"), new("chaos.step", 1L)], startTime: at)!;
        fault.SetEndTime(at.AddMilliseconds(durationMs));
        return fault.TraceId.ToHexString();
    }

    public void Flush()
    {
        foreach (var (name, _, provider) in _peers)
        {
            Assert.True(provider.ForceFlush(30_000), $"{name}'s exporter did not flush");
        }

        Assert.True(_chaosProvider.ForceFlush(30_000), "the chaos exporter did not flush");
    }

    public void Dispose()
    {
        foreach (var (_, source, provider) in _peers)
        {
            provider.Dispose();
            source.Dispose();
        }

        _chaosProvider.Dispose();
        _chaosSource.Dispose();
    }

    private static TracerProvider Provider(string source, string service, string instance, Uri endpoint, OtlpExportProtocol protocol) =>
        Sdk.CreateTracerProviderBuilder()
            .AddSource(source)
            .SetSampler(new AlwaysOnSampler())
            .ConfigureResource(r => r.AddService(service, serviceInstanceId: instance))
            .AddOtlpExporter(o =>
            {
                o.Protocol = protocol;
                o.Endpoint = protocol == OtlpExportProtocol.Grpc ? endpoint : new Uri(endpoint, "/v1/traces");
                o.TimeoutMilliseconds = 30_000;
                o.BatchExportProcessorOptions = new BatchExportActivityProcessorOptions { ScheduledDelayMilliseconds = 200, MaxExportBatchSize = 512 };
            })
            .Build()!;

    private static KeyValuePair<string, object?>[] Tags(string peer, long height, string? hash, params (string Key, object Value)[] more)
    {
        var tags = new List<KeyValuePair<string, object?>> { new("testbed.peer", peer), new("block.height", height) };
        if (hash is not null)
        {
            tags.Add(new("block.hash", hash));
        }

        tags.AddRange(more.Select(m => new KeyValuePair<string, object?>(m.Key, m.Value)));
        return [.. tags];
    }

    private static ActivityContext Child(ActivitySource source, string name, ActivityContext parent, DateTime start, double durationMs, KeyValuePair<string, object?>[] tags)
    {
        using var activity = source.StartActivity(name, ActivityKind.Internal, parent, tags, startTime: start)!;
        activity.SetEndTime(start.AddMilliseconds(durationMs));
        return activity.Context;
    }
}
