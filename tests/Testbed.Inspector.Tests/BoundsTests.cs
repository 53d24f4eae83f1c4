using Microsoft.Extensions.Configuration;
using Testbed.Contracts.Settings;

namespace Testbed.Inspector.Tests;

/// <summary>What the inspector holds stays bounded; its settings are checked with errors naming the setting.</summary>
public sealed class BoundsTests
{
    [Fact]
    public void The_store_keeps_each_span_once_only_relevant_ones_and_evicts_the_oldest_trace()
    {
        var store = new SpanStore(maxTraces: 3, maxSpans: 100, maxSpansPerTrace: 4);
        Assert.Equal(2, store.Add([Span(1, 1, "block.mine"), Span(1, 2, "vm.replay")]));
        Assert.Equal(0, store.Add([Span(1, 1, "block.mine")]));                         // replayed after a reconnect
        Assert.Equal(0, store.Add([Span(9, 1, "GET /status"), Span(9, 2, "torrent.announce")])); // not for the inspector
        Assert.Equal(1, store.Add([Span(9, 3, "POST /mining", status: "Error")]));     // failures are kept
        Assert.Equal(1, store.Add([Span(9, 4, "http", hash: "00ab")]));                 // so is anything naming a block
        Assert.Equal(4, store.Add(Enumerable.Range(1, 6).Select(i => Span(2, i, "block.receive")).ToArray()));
        var counts = store.Counts();
        Assert.Equal((3, 8L, 1L, 2L, 2L), (counts.Traces, counts.Spans, counts.Duplicates, counts.Ignored, counts.DroppedSpans));

        store.Add([Span(3, 1, "chaos.fault")]);
        Assert.Null(store.Get(Trace(1)));                                                // the trace seen first went first
        Assert.NotNull(store.Get(Trace(3)));
        Assert.Equal(1, store.Counts().EvictedTraces);
        Assert.Equal([Trace(3), Trace(2), Trace(9)], store.TraceIds(_ => true));

        var bySpans = new SpanStore(maxTraces: 100, maxSpans: 5, maxSpansPerTrace: 100);
        for (var t = 1; t <= 4; t++)
        {
            bySpans.Add([Span(t, 1, "vm.replay"), Span(t, 2, "vm.replay")]);
        }

        Assert.True(bySpans.Counts().Spans <= 5);
        Assert.Equal([Trace(4), Trace(3)], bySpans.TraceIds(_ => true));
    }

    [Fact]
    public void A_trace_with_two_blocks_gives_two_comparisons()
    {
        var store = new SpanStore(10, 100, 100);
        store.Add([Span(1, 1, "block.mine", hash: "aa", peer: "peer-1"), Span(1, 2, "block.mine", hash: "bb", peer: "peer-2"), Span(1, 3, "torrent.download", peer: "peer-2")]);
        var blocks = PeerComparison.ForTrace(store, Trace(1));
        Assert.Equal(["aa", "bb"], blocks.Select(b => b.BlockHash));
        // A span without block.hash, height, parent or info hash belongs to a block only when its trace carries one block.
        Assert.DoesNotContain(blocks.SelectMany(b => b.Peers).SelectMany(p => p.Stages), s => s.Name == "torrent.download");
        Assert.Equal(2, PeerComparison.List(store, 10).Count);
        Assert.Single(PeerComparison.List(store, 1)); // the limit counts blocks
    }

    [Theory]
    [InlineData("a\nb\n", new[] { "a", "b" })]
    [InlineData("a\r\nb", new[] { "a", "b" })]
    [InlineData("\n\n\r\nx\n\n", new[] { "x" })]
    [InlineData("", new string[0])]
    public async Task Lines_are_split_on_newlines_without_blanks(string text, string[] expected)
    {
        var reader = new BoundedLineReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), 100);
        var lines = new List<string>();
        while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
        {
            lines.Add(Encoding.UTF8.GetString(line.Bytes.Span));
        }

        Assert.Equal(expected, lines);
    }

    [Fact]
    public async Task A_line_over_the_limit_is_skipped_without_being_held()
    {
        var huge = new string('x', 300_000);
        var reader = new BoundedLineReader(new MemoryStream(Encoding.UTF8.GetBytes($"first\n{huge}\nlast")), 1_000);
        var first = await reader.ReadLineAsync(CancellationToken.None);
        var skipped = await reader.ReadLineAsync(CancellationToken.None);
        var last = await reader.ReadLineAsync(CancellationToken.None);
        Assert.Equal("first", Encoding.UTF8.GetString(first!.Value.Bytes.Span));
        Assert.True(skipped!.Value.Oversized);
        Assert.Equal(300_000, skipped.Value.Length);
        Assert.True(skipped.Value.Bytes.IsEmpty);
        Assert.Equal("last", Encoding.UTF8.GetString(last!.Value.Bytes.Span));
        Assert.Null(await reader.ReadLineAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData(null, null, "Inspector__DashboardUrl is required")]
    [InlineData("", null, "Inspector__DashboardUrl is required")]
    [InlineData("127.0.0.1:18888", null, "Inspector__DashboardUrl must be an absolute http:// or https:// URL, not '127.0.0.1:18888'")]
    [InlineData("ftp://host/", null, "Inspector__DashboardUrl must be an absolute http:// or https:// URL")]
    [InlineData("http://127.0.0.1:18888?x=1", null, "Inspector__DashboardUrl must be an absolute http:// or https:// URL")]
    [InlineData("http://127.0.0.1:18888", "dashboard", "Inspector__DashboardBrowserUrl must be an absolute http:// or https:// URL, not 'dashboard'")]
    public void Bad_settings_are_refused_naming_the_setting(string? url, string? browserUrl, string expected)
    {
        var options = new InspectorOptions { DashboardUrl = url, DashboardBrowserUrl = browserUrl };
        var e = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_and_keys_are_checked_too_and_the_browser_url_defaults_to_the_dashboard_url()
    {
        var limits = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [InspectorSettings.DashboardUrl.Key] = "http://127.0.0.1:18888",
            [InspectorSettings.MaxSpans.Key] = "0",
            [InspectorSettings.ProbeInterval.Key] = "00:00:00",
        }).Build();
        var e = Assert.Throws<InvalidOperationException>(() => InspectorOptions.Read(limits));
        Assert.Contains(
            "Inspector__MaxSpans (Inspector:MaxSpans) must be a whole number from 1 to 2147483647 (spans held over all traces), not '0'",
            e.Message,
            StringComparison.Ordinal);
        Assert.Contains(
            "Inspector__ProbeInterval (Inspector:ProbeInterval) must be a duration from 00:00:00.0000001 to 01:00:00 "
            + "(between probes of the dashboard, e.g. 00:00:05), not '00:00:00'",
            e.Message,
            StringComparison.Ordinal);
        var key = new InspectorOptions { DashboardUrl = "http://127.0.0.1:18888", DashboardApiKey = "a\nb" };
        e = Assert.Throws<InvalidOperationException>(key.Validate);
        Assert.Contains("Inspector__DashboardApiKey must be at most 4096 characters without control characters.", e.Message, StringComparison.Ordinal);

        var good = new InspectorOptions { DashboardUrl = " http://127.0.0.1:18888 " };
        good.Validate();
        Assert.Equal("http://127.0.0.1:18888/", good.DashboardUri.ToString());
        Assert.Equal("http://127.0.0.1:18888/", good.BrowserUri.ToString());
        good.DashboardBrowserUrl = "https://dash.example/base";
        Assert.Equal("https://dash.example/base/traces/detail/abc", new Uri(good.BrowserUri, "traces/detail/abc").ToString());
    }

    internal static string Trace(int n) => n.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    private static SpanRecord Span(int trace, int span, string name, string status = "Unset", string? hash = null, string peer = "peer-1") =>
        new(Trace(trace), span.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), null, name, "Internal", 1_000 + span, 2_000 + span, status, null, peer, null, peer, "s",
            hash is null ? [] : [new SpanAttribute("block.hash", hash)]);
}
