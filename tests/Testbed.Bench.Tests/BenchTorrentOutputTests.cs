using System.Text.Json;

namespace Testbed.Bench.Tests;

/// <summary>
/// `testbed-bench torrent` at a tiny size (real transfers: ours→ours and libtorrent→libtorrent, openssl speed for the
/// limits): the shape of its text and --json output, five interleaved samples per side, ratios of the printed medians,
/// the SHA-1/SHA-256 limit lines, and the refusal of unusable options. No figure is compared with a time.
/// </summary>
public sealed class BenchTorrentOutputTests
{
    private static readonly string[] Tiny = ["torrent", "--size", "1", "--rounds", "5", "--limit-seconds", "1"];

    [Fact]
    public async Task Json_carries_every_sides_series_the_ratios_of_their_medians_and_both_limits()
    {
        using var json = JsonDocument.Parse(await TestbedBench.OutputAsync([.. Tiny, "--json"]));
        var root = json.RootElement;
        Assert.Equal(5, root.GetProperty("rounds").GetInt32());
        Assert.Equal(1 << 20, root.GetProperty("bytes").GetInt64());

        var medians = BenchJson.Medians(root, rounds: 5);
        var sides = medians.Keys.Select(k => k.Side).Distinct().ToList();
        // ours and libtorrent for v1 and v2, and the SHA-1 and SHA-256 limits, each in MB/s and CPU s/GiB.
        Assert.Equal(6, sides.Count);
        Assert.Equal(12, medians.Count);
        foreach (var s in root.GetProperty("series").EnumerateArray())
        {
            Assert.All(BenchJson.Samples(s), v => Assert.True(v > 0, $"{s.GetProperty("side")}: {v}"));
        }

        var torrents = root.GetProperty("torrents").EnumerateArray().ToList();
        Assert.Equal(["v1", "v2"], torrents.Select(t => t.GetProperty("version").GetString()));
        foreach (var torrent in torrents)
        {
            foreach (var role in new[] { "ours", "libtorrent", "limit" })
            {
                Assert.Contains(torrent.GetProperty(role).GetString(), sides);
            }
        }

        // Every ratio is the ratio of its medians (BenchJson.Medians checked that).
        var ratios = root.GetProperty("ratios").EnumerateArray().ToList();
        Assert.NotEmpty(ratios);

        // Each version is compared with libtorrent and with its digest's limit, in both units.
        foreach (var torrent in torrents)
        {
            foreach (var other in new[] { "libtorrent", "limit" })
            {
                foreach (var unit in new[] { "MB/s", "CPU s/GiB" })
                {
                    Assert.Contains(ratios, r => r.GetProperty("numerator").GetString() == torrent.GetProperty("ours").GetString()
                        && r.GetProperty("denominator").GetString() == torrent.GetProperty(other).GetString() && r.GetProperty("unit").GetString() == unit);
                }
            }
        }

        var limits = root.GetProperty("limits").EnumerateArray().ToList();
        Assert.Equal(2, limits.Count);
        Assert.Contains("SHA-1", limits[0].GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("SHA-256", limits[1].GetProperty("description").GetString(), StringComparison.Ordinal);
        for (var i = 0; i < 2; i++)
        {
            var measured = limits[i].GetProperty("measured");
            Assert.Equal(torrents[i].GetProperty("limit").GetString(), measured.GetProperty("side").GetString());
            Assert.Equal(5, measured.GetProperty("samples").GetArrayLength());
            Assert.Equal(medians[(measured.GetProperty("side").GetString()!, "MB/s")], measured.GetProperty("median").GetDouble());
        }

        // Three targets per version (throughput and CPU against libtorrent, throughput against the limit), each judged on its printed ratio.
        var targets = root.GetProperty("targets").EnumerateArray().ToList();
        Assert.Equal(6, targets.Count);
        foreach (var target in targets)
        {
            var value = target.GetProperty("value").GetDouble();
            var goal = target.GetProperty("goal").GetDouble();
            var met = target.GetProperty("comparison").GetString() == ">=" ? value >= goal : value <= goal;
            Assert.Equal(met, target.GetProperty("met").GetBoolean());
            Assert.Contains(ratios, r => Math.Abs(r.GetProperty("value").GetDouble() - value) <= value * 1e-12);
        }
    }

    [Fact]
    public async Task Text_output_has_five_samples_per_side_ratios_of_printed_medians_and_the_sha1_limit_line()
    {
        var lines = (await TestbedBench.OutputAsync([.. Tiny, "--skip-v2"])).Split('\n', StringSplitOptions.TrimEntries);

        var printed = PrintedOutput.Read(lines, "MB/s", "CPU s/GiB");
        var medians = printed.Medians(rounds: 5);

        // ours v1, libtorrent v1 and the SHA-1 limit, in two units each; no v2 side.
        Assert.Equal(6, medians.Count);
        Assert.DoesNotContain(medians.Keys, k => k.Side.Contains("v2", StringComparison.Ordinal) || k.Side.Contains("SHA-256", StringComparison.Ordinal));

        Assert.NotEmpty(printed.Ratios);
        printed.AssertRatiosMatchMedians(medians);

        var limit = Assert.Single(lines, l => l.StartsWith("limit: ", StringComparison.Ordinal));
        Assert.Contains("SHA-1", limit, StringComparison.Ordinal);
        Assert.Contains("n=5", limit, StringComparison.Ordinal);
        Assert.Contains("measured in this run", limit, StringComparison.Ordinal);
        Assert.Equal(3, lines.Count(l => l.StartsWith("target: ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("--size", "0", "--size")]
    [InlineData("--size", "16385", "--size")]
    [InlineData("--rounds", "4", "--rounds")]
    [InlineData("--rounds", "101", "--rounds")]
    [InlineData("--piece-length", "1000", "--piece-length")]
    [InlineData("--limit-seconds", "0", "--limit-seconds")]
    [InlineData("--limit-seconds", "61", "--limit-seconds")]
    public async Task Unusable_options_exit_2_naming_the_option(string option, string value, string named)
    {
        var run = await TestbedBench.RunAsync("torrent", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(named, run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout.Trim());
    }
}
