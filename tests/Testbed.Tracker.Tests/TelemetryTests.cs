using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Testbed.TestSupport;
using Testbed.Tracker.Telemetry;
using static Testbed.Tracker.Tests.Requests;
using TrackerEvent = Testbed.Torrent.Trackers.TrackerEvent;

namespace Testbed.Tracker.Tests;

public class TelemetryTests
{
    [Fact]
    public void Announces_emit_a_span_and_metrics_and_rejections_a_structured_log()
    {
        var hash = Hash(424_242);
        using var listener = new SourceSpans(TrackerTelemetry.Name);
        var spans = listener.Stopped;

        var announces = new ConcurrentQueue<(long Value, string? Transport, string? Event)>();
        var swarmSizes = new ConcurrentQueue<int>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == TrackerTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "tracker.announces")
            {
                string? transport = null, announceEvent = null;
                foreach (var tag in tags)
                {
                    transport = tag.Key == "tracker.transport" ? tag.Value as string : transport;
                    announceEvent = tag.Key == "torrent.event" ? tag.Value as string : announceEvent;
                }

                announces.Enqueue((value, transport, announceEvent));
            }
        });
        meters.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            if (instrument.Name == "tracker.swarm.peers")
            {
                swarmSizes.Enqueue(value);
            }
        });
        meters.Start();

        var logger = new ListLogger();
        var store = new SwarmStore(SwarmLimits.Default with { MaxPeersPerTorrent = 1 });
        var service = new AnnounceService(store, AnnouncePolicy.Default, logger);
        service.Announce(Announce(hash, Peer(1), announceEvent: TrackerEvent.Started), V4(1), TrackerTransport.Udp, new PeerEndpoint[5], sameFamilyOnly: true);
        var refused = service.Announce(Announce(hash, Peer(2)), V4(2), TrackerTransport.Http, new PeerEndpoint[5], sameFamilyOnly: false);

        Assert.Equal(AnnounceRefusal.SwarmFull, refused.Refusal);
        var ours = spans.Where(s => (string?)s.GetTagItem("torrent.infohash") == hash.ToHex()).ToList();
        Assert.Equal(2, ours.Count);
        Assert.All(ours, s => Assert.Equal(TrackerTelemetry.AnnounceSpan, s.OperationName));
        Assert.Equal("started", ours[0].GetTagItem("torrent.event"));
        Assert.NotNull(ours[0].GetTagItem("tracker.url"));
        Assert.Equal(ActivityKind.Server, ours[0].Kind);
        Assert.Equal(ActivityStatusCode.Error, ours[1].Status);

        Assert.Contains(announces, a => a.Value == 1 && a.Transport == "udp" && a.Event == "started");
        Assert.Contains(1, swarmSizes);

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Contains("swarm is full", entry.Message, StringComparison.Ordinal);
        Assert.Equal("10.0.0.2", entry.State["Client"]?.ToString());
        Assert.Equal("announce", entry.State["RequestKind"]);
    }

    private sealed class ListLogger : ILogger<AnnounceService>
    {
        public ConcurrentQueue<(LogLevel Level, string Message, Dictionary<string, object?> State)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? pairs.ToDictionary(p => p.Key, p => p.Value) : [];
            Entries.Enqueue((logLevel, formatter(state, exception), values));
        }
    }
}
