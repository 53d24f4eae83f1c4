namespace Testbed.Torrent.Tests.Metainfo;

public sealed class MagnetLinkTests
{
    private const string Hex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

    [Fact]
    public void Parses_hex_name_trackers_and_peers()
    {
        var magnet = MagnetLink.Parse($"magnet:?xt=urn:btih:{Hex.ToUpperInvariant()}&dn=My+File%20%C3%A9&tr=http%3A%2F%2Ft%2Fannounce&tr=udp://u:80&x.pe=127.0.0.1:6881&xl=10");
        Assert.Equal(InfoHash.ParseHex(Hex), magnet.InfoHash);
        Assert.Equal("My File \u00e9", magnet.DisplayName);
        Assert.Equal(["http://t/announce", "udp://u:80"], magnet.Trackers);
        Assert.Equal(["127.0.0.1:6881"], magnet.Peers);
    }

    [Fact]
    public void Parses_base32_info_hash()
    {
        var hash = InfoHash.ParseHex(Hex);
        Assert.Equal(hash, MagnetLink.Parse($"magnet:?xt=urn:btih:{hash.ToBase32()}").InfoHash);
    }

    [Fact]
    public void Builds_a_link_that_parses_back()
    {
        var magnet = new MagnetLink(InfoHash.ParseHex(Hex), "a b&c=d", ["http://t/announce?x=1&y=2"], ["[::1]:5"]);
        var text = magnet.ToString();
        Assert.StartsWith($"magnet:?xt=urn:btih:{Hex}&dn=a%20b%26c%3Dd&tr=http%3A%2F%2Ft", text, StringComparison.Ordinal);
        Assert.Equal(magnet, MagnetLink.Parse(text));
    }

    [Fact]
    public void From_metainfo_carries_hash_name_and_trackers()
    {
        var torrent = TorrentCreator.CreateFromBytes("blk", new byte[] { 1, 2, 3 }, new TorrentCreateOptions { TrackerTiers = [["http://a/announce"], ["udp://b:1"]] });
        var magnet = MagnetLink.FromMetainfo(torrent);
        Assert.Equal(torrent.InfoHash, magnet.InfoHash);
        Assert.Equal("blk", magnet.DisplayName);
        Assert.Equal(["http://a/announce", "udp://b:1"], magnet.Trackers);
    }

    [Theory]
    [InlineData("http://x", "must start with 'magnet:?'")]
    [InlineData("magnet:?dn=x", "no 'xt=urn:btih:'")]
    [InlineData("magnet:?xt=urn:btih:1234", "neither 40 hex digits nor 32 base32")]
    [InlineData("magnet:?xt", "has no value")]
    [InlineData("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=%G1", "broken percent escape")]
    [InlineData("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&xt=urn:btih:0000000000000000000000000000000000000000", "two different")]
    public void Rejects_bad_links_with_a_reason(string link, string problem)
    {
        Assert.Contains(problem, Assert.Throws<MetainfoException>(() => MagnetLink.Parse(link)).Message, StringComparison.Ordinal);
        Assert.False(MagnetLink.TryParse(link, out _));
    }

    [Fact]
    public void Bounds_length_and_entries()
    {
        Assert.Contains("longer than", Assert.Throws<MetainfoException>(() => MagnetLink.Parse("magnet:?" + new string('a', MagnetLink.MaxLength))).Message, StringComparison.Ordinal);
        var many = $"magnet:?xt=urn:btih:{Hex}" + string.Concat(Enumerable.Repeat("&tr=x", MagnetLink.MaxEntries + 1));
        Assert.Contains("more than", Assert.Throws<MetainfoException>(() => MagnetLink.Parse(many)).Message, StringComparison.Ordinal);
    }

    private const string V2Hex = "0db50d6c90aeb1782a98d5ec15789bb513dadcf5a3638c9cdac497596c1cb8d6";

    [Fact]
    public void Parses_a_v2_only_btmh_link_whose_wire_hash_is_the_truncated_sha256()
    {
        var magnet = MagnetLink.Parse($"magnet:?xt=urn:btmh:1220{V2Hex.ToUpperInvariant()}&dn=bundle");
        Assert.Equal(InfoHashV2.ParseHex(V2Hex), magnet.InfoHashV2);
        Assert.Equal(InfoHash.ParseHex(V2Hex[..40]), magnet.InfoHash);
        Assert.False(magnet.HasV1);
        Assert.Equal($"magnet:?xt=urn:btmh:1220{V2Hex}&dn=bundle", magnet.ToString());
        Assert.Equal(magnet, MagnetLink.Parse(magnet.ToString()));
    }

    [Fact]
    public void Parses_a_hybrid_link_with_both_hashes()
    {
        var magnet = MagnetLink.Parse($"magnet:?xt=urn:btih:{Hex}&xt=urn:btmh:1220{V2Hex}");
        Assert.Equal(InfoHash.ParseHex(Hex), magnet.InfoHash);
        Assert.Equal(InfoHashV2.ParseHex(V2Hex), magnet.InfoHashV2);
        Assert.True(magnet.HasV1);
        Assert.Equal(magnet, MagnetLink.Parse(magnet.ToString()));
    }

    [Theory]
    [InlineData("1114" + "0db50d6c90aeb1782a98d5ec15789bb513dadcf5", "is not a SHA-256 multihash")]
    [InlineData("1220" + "0db50d6c90", "does not have 64 hex digits after 1220")]
    [InlineData("1220" + "zz50d6c90aeb1782a98d5ec15789bb513dadcf5a3638c9cdac497596c1cb8d6", "does not have 64 hex digits after 1220")]
    public void Bad_btmh_values_are_refused_clearly(string value, string expected)
    {
        var error = Assert.Throws<MetainfoException>(() => MagnetLink.Parse($"magnet:?xt=urn:btmh:{value}"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_a_hybrid_metainfo_carries_both_hashes()
    {
        var torrent = TorrentCreator.CreateFromBytes("blk", new byte[] { 1, 2, 3 }, new TorrentCreateOptions { Version = TorrentVersion.Hybrid });
        var magnet = MagnetLink.FromMetainfo(torrent);
        Assert.Equal(torrent.Info.InfoHashV1, magnet.InfoHash);
        Assert.Equal(torrent.Info.InfoHashV2, magnet.InfoHashV2);
        Assert.Contains($"xt=urn:btmh:1220{torrent.Info.InfoHashV2!.Value.ToHex()}", magnet.ToString(), StringComparison.Ordinal);
    }
}
