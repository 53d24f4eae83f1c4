using TrackerEvent = Testbed.Torrent.Trackers.TrackerEvent;

namespace Testbed.Tracker.Tests;

public class AnnounceQueryParserTests
{
    private static readonly byte[] HashBytes = Convert.FromHexString("2b2b00ff7e2541201d0a3f263d2b61625c2f0102");

    [Fact]
    public void Parses_a_libtorrent_style_announce()
    {
        // Shape of a libtorrent 2.0 announce: lower-case escapes, unreserved bytes left bare, extra parameters.
        var query = "?info_hash=%2b%2b%00%ff~%25A%20%1d%0a%3f%26%3d%2bab%5c%2f%01%02" +
                    "&peer_id=-LT2080-%e3%b5%8bQ%f1%94c%d2%e9u%cc%e8&port=6881&uploaded=0&downloaded=0&left=1048576" +
                    "&corrupt=0&key=1A2B3C4D&event=started&numwant=200&compact=1&no_peer_id=1&supportcrypto=1&redundant=0";

        Assert.True(AnnounceQueryParser.TryParse(query, out var request, out var error), error);

        Assert.Equal(new InfoHash(HashBytes), request.InfoHash);
        var expectedPeer = "-LT2080-"u8.ToArray().Concat(new byte[] { 0xe3, 0xb5, 0x8b, (byte)'Q', 0xf1, 0x94, (byte)'c', 0xd2, 0xe9, (byte)'u', 0xcc, 0xe8 }).ToArray();
        Assert.Equal(new PeerId(expectedPeer), request.PeerId);
        Assert.Equal(6881, request.Port);
        Assert.Equal(1048576, request.Left);
        Assert.Equal(TrackerEvent.Started, request.Event);
        Assert.Equal(200, request.NumWant);
        Assert.True(request.Compact);
        Assert.True(request.NoPeerId);
        Assert.Equal(AnnounceQueryParser.HashKey("1A2B3C4D"u8), request.Key);
        Assert.False(request.IsSeeder);
    }

    [Fact]
    public void Parses_an_aria2_style_announce_with_upper_case_escapes()
    {
        var query = "info_hash=%FCAx%9F%CF%F6%E0%25%12%28%29%AF%3E%F7%7F%B8z%BD%C50&peer_id=A2-1-36-0-%1D%E20%04%9A%AF%C0R%B9%E7" +
                    "&uploaded=0&downloaded=0&left=300000&compact=1&key=0%04%9A%AF%C0R%B9%E7&numwant=50&no_peer_id=1&port=6910&event=started&supportcrypto=1";

        Assert.True(AnnounceQueryParser.TryParse(query, out var request, out var error), error);

        Assert.Equal(
            new InfoHash([0xFC, (byte)'A', (byte)'x', 0x9F, 0xCF, 0xF6, 0xE0, 0x25, 0x12, 0x28, 0x29, 0xAF, 0x3E, 0xF7, 0x7F, 0xB8, (byte)'z', 0xBD, 0xC5, (byte)'0']),
            request.InfoHash);
        Assert.Equal(6910, request.Port);
        Assert.Equal(50, request.NumWant);
    }

    [Fact]
    public void Plus_is_the_byte_0x2B_not_a_space()
    {
        var query = "info_hash=+%2B++++++++++++++++++&peer_id=++++++++++++++++++++&port=1";

        Assert.True(AnnounceQueryParser.TryParse(query, out var request, out var error), error);

        Assert.Equal(new InfoHash(Enumerable.Repeat((byte)0x2B, 20).ToArray()), request.InfoHash);
        Assert.Equal(new PeerId(Enumerable.Repeat((byte)0x2B, 20).ToArray()), request.PeerId);
    }

    [Fact]
    public void Every_byte_value_round_trips_through_percent_encoding()
    {
        for (var start = 0; start < 256; start += 20)
        {
            var bytes = Enumerable.Range(start, 20).Select(i => (byte)(i % 256)).ToArray();
            var query = $"info_hash={Requests.Escape(bytes)}&peer_id={Requests.Escape(bytes)}&port=80";
            Assert.True(AnnounceQueryParser.TryParse(query, out var request, out var error), error);
            Assert.Equal(bytes, request.InfoHash.ToArray());
        }
    }

    [Fact]
    public void Defaults_when_optional_parameters_are_absent()
    {
        var query = $"info_hash={Requests.Escape(HashBytes)}&peer_id=-TR3000-abcdefghijkl&port=51413";

        Assert.True(AnnounceQueryParser.TryParse(query, out var request, out _));

        Assert.Equal(TrackerEvent.None, request.Event);
        Assert.Equal(-1, request.NumWant);
        Assert.Equal(-1, request.Left);
        Assert.True(request.Compact);
        Assert.False(request.NoPeerId);
        Assert.Null(request.Key);
        Assert.Null(request.ClaimedAddress);
    }

    [Theory]
    [InlineData("completed", TrackerEvent.Completed)]
    [InlineData("stopped", TrackerEvent.Stopped)]
    [InlineData("started", TrackerEvent.Started)]
    [InlineData("", TrackerEvent.None)]
    [InlineData("paused", TrackerEvent.None)]
    public void Reads_events(string value, TrackerEvent expected)
    {
        var query = $"info_hash={Requests.Escape(HashBytes)}&peer_id=-TR3000-abcdefghijkl&port=1&event={value}";
        Assert.True(AnnounceQueryParser.TryParse(query, out var request, out _));
        Assert.Equal(expected, request.Event);
    }

    [Fact]
    public void Compact_zero_asks_for_the_dictionary_model_and_ip_is_read()
    {
        var query = $"info_hash={Requests.Escape(HashBytes)}&peer_id=-TR3000-abcdefghijkl&port=1&compact=0&ip=192.0.2.7";
        Assert.True(AnnounceQueryParser.TryParse(query, out var request, out _));
        Assert.False(request.Compact);
        Assert.Equal(PeerAddress.FromV4([192, 0, 2, 7]), request.ClaimedAddress);
    }

    [Fact]
    public void A_numwant_beyond_int_range_means_as_many_as_allowed()
    {
        var query = $"info_hash={Requests.Escape(HashBytes)}&peer_id=-TR3000-abcdefghijkl&port=1&numwant=99999999999999999999";
        Assert.True(AnnounceQueryParser.TryParse(query, out var request, out _));
        Assert.Equal(200, AnnouncePolicy.Default.BoundNumWant(request.NumWant));
        Assert.Equal(50, AnnouncePolicy.Default.BoundNumWant(-1));
        Assert.Equal(0, AnnouncePolicy.Default.BoundNumWant(0));
    }

    [Theory]
    [InlineData("peer_id=-TR3000-abcdefghijkl&port=1", "missing info_hash")]
    [InlineData("info_hash=HASH&port=1", "missing peer_id")]
    [InlineData("info_hash=HASH&peer_id=-TR3000-abcdefghijkl", "missing port")]
    [InlineData("info_hash=%01%02&peer_id=-TR3000-abcdefghijkl&port=1", "info_hash must be 20 bytes")]
    [InlineData("info_hash=HASH%00&peer_id=-TR3000-abcdefghijkl&port=1", "info_hash must be 20 bytes")]
    [InlineData("info_hash=%zz%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14&peer_id=-TR3000-abcdefghijkl&port=1", "info_hash must be 20 bytes")]
    [InlineData("info_hash=HASH&peer_id=-TR3000-abcdefghijkl&port=1&info_hash=HASH", "info_hash given more than once")]
    [InlineData("info_hash=HASH&peer_id=short&port=1", "peer_id must be 20 bytes")]
    [InlineData("info_hash=HASH&peer_id=-TR3000-abcdefghijkl&port=65536", "port must be")]
    [InlineData("info_hash=HASH&peer_id=-TR3000-abcdefghijkl&port=-1", "port must be")]
    [InlineData("info_hash=HASH&peer_id=-TR3000-abcdefghijkl&port=http", "port must be")]
    [InlineData("info_hash=HASH&peer_id=-TR3000-abcdefghijkl&port=1&left=-5", "left must be")]
    [InlineData("info_hash=HASH&peer_id=-TR3000-abcdefghijkl&port=1&uploaded=1e9", "uploaded must be")]
    [InlineData("info_hash=HASH&peer_id=-TR3000-abcdefghijkl&port=1&downloaded=99999999999999999999", "downloaded must be")]
    [InlineData("info_hash=HASH&peer_id=-TR3000-abcdefghijkl&port=1&event=finished", "event must be")]
    [InlineData("info_hash=HASH&peer_id=-TR3000-abcdefghijkl&port=1&numwant=-3", "numwant must be")]
    [InlineData("", "missing info_hash")]
    [InlineData("&&&==&", "missing info_hash")]
    public void Bad_announces_get_an_error_naming_the_problem(string query, string expected)
    {
        query = query.Replace("HASH", Requests.Escape(HashBytes), StringComparison.Ordinal);
        Assert.False(AnnounceQueryParser.TryParse(query, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_over_long_query_is_refused_before_parsing()
    {
        var query = $"info_hash={Requests.Escape(HashBytes)}&peer_id=-TR3000-abcdefghijkl&port=1&pad={new string('x', 5000)}";
        Assert.False(AnnounceQueryParser.TryParse(query, out _, out var error));
        Assert.Contains("more than the 4096 allowed", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_garbage_never_throws()
    {
        var random = new Random(7);
        const string alphabet = "%&=+_abcdefinfo_hashpeer_idport0123456789xX\u00e9\u4e2d";
        for (var i = 0; i < 20_000; i++)
        {
            var chars = new char[random.Next(0, 300)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            var ok = AnnounceQueryParser.TryParse(chars, out _, out var error);
            Assert.True(ok || !string.IsNullOrEmpty(error));
        }
    }

    [Fact]
    public void Scrape_reads_several_hashes_and_bounds_them()
    {
        var hashes = Enumerable.Range(0, 3).Select(Requests.Hash).ToList();
        var query = string.Join('&', hashes.Select(h => "info_hash=" + Requests.Escape(h.ToArray())));
        var parsed = new List<InfoHash>();
        Assert.True(ScrapeQueryParser.TryParse(query, 74, parsed, out _));
        Assert.Equal(hashes, parsed);

        Assert.False(ScrapeQueryParser.TryParse(query, 2, [], out var tooMany));
        Assert.Contains("more than 2 info_hash", tooMany, StringComparison.Ordinal);
        Assert.False(ScrapeQueryParser.TryParse("", 74, [], out var none));
        Assert.Contains("at least one info_hash", none, StringComparison.Ordinal);
        Assert.False(ScrapeQueryParser.TryParse("info_hash=%01", 74, [], out var shortHash));
        Assert.Contains("20 bytes", shortHash, StringComparison.Ordinal);
    }
}
