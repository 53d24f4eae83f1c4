using System.Diagnostics;
using System.Diagnostics.Metrics;
using Testbed.Torrent.Tests.Interop;

namespace Testbed.Torrent.Tests.Sessions;

/// <summary>The `torrent.download` span and byte counters, and finding peers through a tracker.</summary>
public sealed class TelemetryAndTrackerTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_download_records_a_torrent_download_span_and_byte_counters()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "span.bin", 100_000, 16 * 1024, seed: 11);
        var hex = torrent.InfoHash.ToHex();
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == TorrentTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.OperationName == "torrent.download" && (string?)a.GetTagItem("torrent.infohash") == hex)
                {
                    lock (spans)
                    {
                        spans.Add(a);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        long down = 0;
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TorrentTelemetry.Name && instrument.Name == "torrent.bytes.down")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref down, value));
        meters.Start();

        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir);
        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent.Info, t.NewDirectory("get"), new TorrentSessionOptions { PeerName = "peer-7" });
        get.AddPeer(seeder.LocalEndPoint!);
        await get.WaitForCompletionAsync().WaitAsync(Generous);

        Activity span;
        lock (spans)
        {
            span = Assert.Single(spans, s => (string?)s.GetTagItem("testbed.peer") == "peer-7");
        }

        Assert.Equal(ActivityStatusCode.Ok, span.Status);
        Assert.Equal(100_000L, span.GetTagItem("torrent.bytes"));
        Assert.Equal(torrent.Info.PieceCount, span.GetTagItem("torrent.pieces"));
        Assert.Equal(1, span.GetTagItem("torrent.peers"));
        Assert.True(Interlocked.Read(ref down) >= 100_000);
    }

    [Fact]
    public async Task A_leecher_finds_the_seeder_through_the_tracker()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var plain = await t.CreateSingleFileAsync(seedDir, "tracked.bin", 80_000, 16 * 1024, seed: 12);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(plain.Info, seedDir, new TorrentSessionOptions { UseTrackers = false });
        await using var tracker = new MiniTracker([seeder.LocalEndPoint!]);
        var tracked = await TorrentCreator.CreateFromPathAsync(Path.Combine(seedDir, "tracked.bin"), new TorrentCreateOptions
        {
            PieceLength = 16 * 1024,
            TrackerTiers = TorrentCreateOptions.OneTierEach([tracker.AnnounceUrl]),
        });

        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(tracked, t.NewDirectory("get"));
        await get.WaitForCompletionAsync().WaitAsync(Generous);
        TestTorrents.AssertSameFiles(plain.Info, seedDir, get.Directory);
        Assert.True(tracker.Announces >= 1);
    }
}
