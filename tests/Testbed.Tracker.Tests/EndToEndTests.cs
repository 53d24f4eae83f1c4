using Testbed.Contracts.Settings;
using Testbed.Torrent.Bencoding;
using static Testbed.Tracker.Tests.Requests;

namespace Testbed.Tracker.Tests;

public class EndToEndTests
{
    private static string AnnounceQuery(InfoHash hash, PeerId peer, int port, long left, string extra = "") =>
        $"?info_hash={Escape(hash.ToArray())}&peer_id={Escape(peer.ToArray())}&port={port}&uploaded=0&downloaded=0&left={left}{extra}";

    private static async Task<BencodeDictionary> GetBencodedAsync(HttpClient client, Uri url)
    {
        using var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        return BencodeDecoder.DecodeDictionary(body);
    }

    [Fact]
    public async Task Http_announce_compact_and_dictionary_then_scrape()
    {
        await using var tracker = await TrackerServer.StartAsync();
        using var client = new HttpClient();
        var hash = Hash(1);

        var first = await GetBencodedAsync(client, new Uri(tracker.AnnounceUrl + AnnounceQuery(hash, Peer(1), 6001, 0, "&event=started&compact=1")));
        Assert.Equal(30, first.Require<BencodeInteger>("interval").Value);
        Assert.Equal(5, first.Require<BencodeInteger>("min interval").Value);
        Assert.Equal(1, first.Require<BencodeInteger>("complete").Value);
        Assert.Equal(0, first.Require<BencodeString>("peers").Length);

        var second = await GetBencodedAsync(client, new Uri(tracker.AnnounceUrl + AnnounceQuery(hash, Peer(2), 6002, 10, "&event=started&compact=1")));
        Assert.Equal(new byte[] { 127, 0, 0, 1, 0x17, 0x71 }, second.Require<BencodeString>("peers").Bytes.ToArray());
        Assert.Equal(1, second.Require<BencodeInteger>("incomplete").Value);

        var dictionary = await GetBencodedAsync(client, new Uri(tracker.AnnounceUrl + AnnounceQuery(hash, Peer(3), 6003, 10, "&compact=0")));
        var peers = dictionary.Require<BencodeList>("peers").Cast<BencodeDictionary>().ToList();
        Assert.Equal(2, peers.Count);
        Assert.All(peers, p => Assert.Equal("127.0.0.1", p.Require<BencodeString>("ip").Text));
        Assert.Contains(peers, p => p.Require<BencodeString>("peer id").Bytes.ToArray().SequenceEqual(Peer(1).ToArray()) && p.Require<BencodeInteger>("port").Value == 6001);

        var noIds = await GetBencodedAsync(client, new Uri(tracker.AnnounceUrl + AnnounceQuery(hash, Peer(3), 6003, 10, "&compact=0&no_peer_id=1")));
        Assert.All(noIds.Require<BencodeList>("peers").Cast<BencodeDictionary>(), p => Assert.False(p.ContainsKey("peer id")));

        await GetBencodedAsync(client, new Uri(tracker.AnnounceUrl + AnnounceQuery(hash, Peer(2), 6002, 0, "&event=completed")));
        var scrape = await GetBencodedAsync(client, new Uri(tracker.Http, $"/scrape?info_hash={Escape(hash.ToArray())}&info_hash={Escape(Hash(2).ToArray())}"));
        var files = scrape.Require<BencodeDictionary>("files");
        Assert.Equal(2, files.Count);
        var stats = (BencodeDictionary)files.Single(f => f.Key.Bytes.Span.SequenceEqual(hash.ToArray())).Value;
        Assert.Equal(2, stats.Require<BencodeInteger>("complete").Value);
        Assert.Equal(1, stats.Require<BencodeInteger>("incomplete").Value);
        Assert.Equal(1, stats.Require<BencodeInteger>("downloaded").Value);
    }

    [Fact]
    public async Task Health_includes_the_bound_udp_socket()
    {
        await using var tracker = await TrackerServer.StartAsync();
        using var client = new HttpClient();
        Assert.Equal("Healthy", await client.GetStringAsync(new Uri(tracker.Http, "/health")));
        Assert.NotEqual(0, tracker.Udp.Port);
    }

    [Fact]
    public async Task Http_ip_parameter_is_ignored_unless_configured()
    {
        var hash = Hash(1);
        using var client = new HttpClient();
        await using (var tracker = await TrackerServer.StartAsync())
        {
            await GetBencodedAsync(client, new Uri(tracker.AnnounceUrl + AnnounceQuery(hash, Peer(1), 6001, 0, "&ip=192.0.2.1")));
            var answer = await GetBencodedAsync(client, new Uri(tracker.AnnounceUrl + AnnounceQuery(hash, Peer(2), 6002, 5)));
            Assert.Equal(new byte[] { 127, 0, 0, 1 }, answer.Require<BencodeString>("peers").Bytes[..4].ToArray());
        }

        await using (var trusting = await TrackerServer.StartAsync(new Dictionary<string, string?> { [TrackerSettings.AllowClientIp.Key] = "true" }))
        {
            await GetBencodedAsync(client, new Uri(trusting.AnnounceUrl + AnnounceQuery(hash, Peer(1), 6001, 0, "&ip=192.0.2.1")));
            var answer = await GetBencodedAsync(client, new Uri(trusting.AnnounceUrl + AnnounceQuery(hash, Peer(2), 6002, 5)));
            Assert.Equal(new byte[] { 192, 0, 2, 1 }, answer.Require<BencodeString>("peers").Bytes[..4].ToArray());
        }
    }

    [Theory]
    [InlineData("/announce", "missing info_hash")]
    [InlineData("/announce?info_hash=%zz", "info_hash must be 20 bytes")]
    [InlineData("/announce?info_hash=%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14&peer_id=12345678901234567890&port=99999", "port must be")]
    [InlineData("/announce?info_hash=%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14&peer_id=12345678901234567890&port=1&event=bogus", "event must be")]
    [InlineData("/scrape", "at least one info_hash")]
    [InlineData("/scrape?info_hash=abc", "20 bytes")]
    public async Task Http_bad_requests_get_a_failure_reason_with_status_200(string pathAndQuery, string expected)
    {
        await using var tracker = await TrackerServer.StartAsync();
        using var client = new HttpClient();
        var answer = await GetBencodedAsync(client, new Uri(tracker.Http, pathAndQuery));
        Assert.Contains(expected, answer.Require<BencodeString>("failure reason").Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_never_answers_500_to_hostile_queries()
    {
        await using var tracker = await TrackerServer.StartAsync();
        using var client = new HttpClient();
        var random = new Random(3);
        const string alphabet = "%&=+_0123456789abcdefinfo_hashpeer_idportnumwantevent";
        for (var i = 0; i < 200; i++)
        {
            var chars = new char[random.Next(0, 600)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            using var response = await client.GetAsync(new Uri(tracker.Http, (i % 2 == 0 ? "/announce?" : "/scrape?") + new string(chars)));
            Assert.True((int)response.StatusCode < 500, $"status {(int)response.StatusCode} for query {new string(chars)}");
        }

        var huge = await GetBencodedAsync(client, new Uri(tracker.Http, "/announce?x=" + new string('a', 6000)));
        Assert.True(huge.ContainsKey("failure reason"));
    }

    [Fact]
    public async Task Udp_connect_announce_scrape_and_garbage_over_a_real_socket()
    {
        await using var tracker = await TrackerServer.StartAsync();
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Connect(tracker.Udp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        async Task<byte[]> Exchange(byte[] packet)
        {
            await socket.SendAsync(packet, timeout.Token);
            return (await socket.ReceiveAsync(timeout.Token)).Buffer;
        }

        // Garbage first: the server must neither crash nor answer packets without a header.
        await socket.SendAsync(new byte[] { 1, 2, 3 }, timeout.Token);
        var garbage = new byte[300];
        new Random(5).NextBytes(garbage);
        await socket.SendAsync(garbage, timeout.Token);

        var connect = await Exchange(UdpPacketHandlerTests.ConnectPacket(1234));
        // The random 300-byte packet may draw an error reply first; skip to the connect reply.
        while (BinaryPrimitives.ReadInt32BigEndian(connect.AsSpan(4)) != 1234)
        {
            connect = (await socket.ReceiveAsync(timeout.Token)).Buffer;
        }

        var id = BinaryPrimitives.ReadUInt64BigEndian(connect.AsSpan(8));
        var hash = Hash(9);
        await Exchange(UdpPacketHandlerTests.AnnouncePacket(id, 1, hash, Peer(1), 5001, left: 0));
        var announce = await Exchange(UdpPacketHandlerTests.AnnouncePacket(id, 2, hash, Peer(2), 5002, left: 10));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(announce));
        Assert.Equal(new byte[] { 127, 0, 0, 1, 0x13, 0x89 }, announce[20..]);

        var scrape = await Exchange(UdpPacketHandlerTests.ScrapePacket(id, 3, hash));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(scrape.AsSpan(8)));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(scrape.AsSpan(16)));
        Assert.Equal(new SwarmCounts(1, 1, 0), tracker.Store.Scrape(hash));
    }
}
