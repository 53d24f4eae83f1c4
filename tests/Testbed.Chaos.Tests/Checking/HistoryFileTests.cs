using static Testbed.Chaos.Tests.Checking.HistoryValues;

namespace Testbed.Chaos.Tests.Checking;

/// <summary>The history as a file: every kind of event survives a write and a read, the checks on the file equal the checks in memory, bad lines are named.</summary>
public sealed class HistoryFileTests
{
    /// <summary>A small run with one event of every kind; dishonest: the mined block is lost on restart.</summary>
    internal static IReadOnlyList<HistoryEvent> Sample(bool honest)
    {
        var expectation = new Expectation(true, TimeSpan.FromSeconds(30), 1, null, null, null, null, ["peer-3"], InvalidRejected: null);
        PeerObservation Seen(double s, string peer, long height, string tip, string boot, int poll) =>
            new(T0.AddSeconds(s), peer, true, true, height, tip, Root1, 0, 0, 1, 0, Root1, boot, height, poll, []);
        return
        [
            new RunStarted(T0, "sample", ["peer-1", "peer-2"], [new PlannedStep(1, "mine", ["peer-1"]), new PlannedStep(2, "kill", ["peer-1"]), new PlannedStep(3, "expect", ["*"], expectation)]),
            Seen(0.5, "peer-1", 0, TipA, "p1a", 1),
            Seen(0.5, "peer-2", 0, TipA, "p2a", 1),
            new MinedRecord(T0.AddSeconds(1), "peer-1", TipB, 1),
            new BlockEvent(T0.AddSeconds(1.1), "peer-1", "p1a", 1, T0.AddSeconds(1).ToUnixTimeMilliseconds(), TipB, 1, "mined", "Connected", true),
            Seen(1.2, "peer-1", 1, TipB, "p1a", 2),
            Seen(1.2, "peer-2", 1, TipB, "p2a", 2),
            new StepRecord(1, "mine", ["peer-1"], T0.AddSeconds(0.9), T0.AddSeconds(1.3), true, "peer-1 mined 1"),
            new CrashRecord(T0.AddSeconds(2), "peer-1"),
            new StepRecord(2, "kill", ["peer-1"], T0.AddSeconds(1.9), T0.AddSeconds(2.5), true, "kill peer-1 done"),
            new BlockEvent(T0.AddSeconds(3), "peer-1", "p1b", 1, T0.AddSeconds(2.8).ToUnixTimeMilliseconds(), TipB, 1, honest ? "loaded" : "sync", honest ? "Loaded" : "Connected", true, From: honest ? null : "peer-2"),
            Seen(3.1, "peer-1", 1, TipB, "p1b", 3),
            Seen(3.1, "peer-2", 1, TipB, "p2a", 3),
            new StepRecord(3, "expect", ["*"], T0.AddSeconds(3), T0.AddSeconds(3.2), true, "held"),
            new ReorgRecord(T0.AddSeconds(3), "peer-2", TipA, TipB, 0, 1),
            new BlockLogGap(T0.AddSeconds(3), "peer-2", "p2a", 1, 0, "none"),
            new ConsistencyRecord(T0.AddSeconds(4), "peer-1", true, true, [], 1, TipB, Root1, Root1),
            new ConsistencyRecord(T0.AddSeconds(4), "peer-2", true, true, [], 1, TipB, Root1, Root1),
            new RunEnded(T0.AddSeconds(5), null),
        ];
    }

    [Fact]
    public void Every_event_survives_a_write_and_a_read_and_the_file_gives_the_same_verdict()
    {
        var path = Path.Combine(Path.GetTempPath(), "history-" + Guid.NewGuid().ToString("n") + ".jsonl");
        try
        {
            var events = Sample(honest: false);
            var live = new RunHistory();
            using (var writer = new HistoryWriter(path))
            {
                var recording = new RunHistory(writer.Write);
                foreach (var item in events)
                {
                    recording.Add(item);
                    live.Add(item);
                }
            }

            var lines = File.ReadAllLines(path);
            Assert.Equal(events.Count, lines.Length);
            Assert.StartsWith("{\"type\":\"run\",", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("{\"type\":\"end\",", lines[^1], StringComparison.Ordinal);

            var read = HistoryFile.Read(path);
            Assert.Equal("sample", read.Run!.Scenario);
            Assert.Equal(events.OfType<RunStarted>().Single(), read.Run, new RecordEquality<RunStarted>());
            Assert.Equal(TimeSpan.FromSeconds(30), read.Run.Steps[2].Expectation!.Within);
            Assert.Equal(["peer-3"], read.Run.Steps[2].Expectation!.Exclude);
            Assert.Equal(events.OfType<PeerObservation>(), read.Observations, new RecordEquality<PeerObservation>());
            Assert.Equal(events.OfType<StepRecord>(), read.Steps, new RecordEquality<StepRecord>());
            Assert.Equal(events.OfType<BlockEvent>(), read.Blocks);
            Assert.Equal(events.OfType<MinedRecord>(), read.Mined);
            Assert.Equal(events.OfType<CrashRecord>(), read.Crashes);
            Assert.Equal(events.OfType<ReorgRecord>(), read.Reorgs);
            Assert.Equal(events.OfType<BlockLogGap>(), read.Gaps);
            Assert.Equal(events.OfType<ConsistencyRecord>(), read.Consistency, new RecordEquality<ConsistencyRecord>());
            Assert.Equal(events.OfType<RunEnded>().Single(), read.End);

            var fromFile = InvariantChecker.Check(read);
            Assert.Equal(InvariantChecker.Check(live), fromFile);
            var lost = Assert.Single(fromFile, c => !c.Ok);
            Assert.Equal(InvariantChecker.NoAcknowledgedBlockLostName, lost.Name);
            Assert.Contains("peer-1 did not load block bbbbbbbbbbbb (height 1) from its own store after its crash", lost.Detail, StringComparison.Ordinal);
            Assert.All(InvariantChecker.Check(ReadAll(Sample(honest: true))), c => Assert.True(c.Ok, $"{c.Name}: {c.Detail}"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("{\"type\":\"run\",\"at\":\"2026-11-24T04:00:00Z\",\"scenario\":\"x\",\"peers\":[],\"steps\":[]}\n{\"type\":\"teleport\"}\n", "line 2:")]
    [InlineData("\n\nnot json\n", "line 3:")]
    [InlineData("null\n", "line 1: null is not an event")]
    [InlineData("{\"at\":\"2026-11-24T04:00:00Z\",\"peer\":\"peer-1\"}\n", "line 1:")]
    public void A_bad_line_is_named(string text, string expected)
    {
        var error = Assert.Throws<HistoryFileException>(() => HistoryFile.Read(new MemoryStream(Encoding.UTF8.GetBytes(text))));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_may_come_in_any_order_and_blank_lines_are_skipped()
    {
        var text = "\n{\"peer\":\"peer-1\",\"at\":\"2026-11-24T04:00:01Z\",\"type\":\"crash\"}\r\n\n";
        var history = HistoryFile.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        Assert.Equal(new CrashRecord(T0.AddSeconds(1), "peer-1"), Assert.Single(history.Crashes));
    }

    private static RunHistory ReadAll(IEnumerable<HistoryEvent> events)
    {
        var text = string.Join("\n", events.Select(HistoryFile.Serialize));
        return HistoryFile.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Records holding lists compare their lists by reference; this compares their JSON.</summary>
    private sealed class RecordEquality<T> : IEqualityComparer<T>
        where T : HistoryEvent
    {
        public bool Equals(T? x, T? y) => HistoryFile.Serialize(x!) == HistoryFile.Serialize(y!);

        public int GetHashCode(T obj) => HistoryFile.Serialize(obj).GetHashCode(StringComparison.Ordinal);
    }
}
