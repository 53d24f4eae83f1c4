using System.Text.Json;
using Testbed.TestSupport.BadInput;
using Xunit.Abstractions;
using static Testbed.Tracker.Tests.Requests;

namespace Testbed.Tracker.Tests.BadInput;

/// <summary>The tracker service exactly as its Program.cs builds it (service defaults included), on loopback ports picked by the OS.</summary>
public sealed class TrackerServiceFixture : IAsyncLifetime
{
    private TrackerServer _server = null!;

    public Uri Http => _server.Http;

    public IPEndPoint Udp => _server.Udp;

    public async Task InitializeAsync() => _server = await TrackerServer.StartServiceAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();
}

/// <summary>
/// The UDP tracker (BEP 15) against garbage and spoofable requests: an unverified sender never gets an answer larger than its
/// datagram (no amplification, as docs/tracker.md promises), a verified one gets errors naming the problem, and the
/// tracker keeps answering.
/// </summary>
public sealed class UdpTrackerBadInputTests(TrackerServiceFixture tracker, ITestOutputHelper output) : IClassFixture<TrackerServiceFixture>
{
    private const ulong ProtocolId = 0x41727101980;

    private static byte[] Datagram(ulong connectionId, int action, int transactionId, int length, Random random)
    {
        var packet = BadInputs.RandomBytes(random, Math.Max(16, length));
        BinaryPrimitives.WriteUInt64BigEndian(packet, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), action);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(12), transactionId);
        return packet;
    }

    [Fact]
    public async Task The_16_byte_garbage_datagram_gets_no_answer_larger_than_itself()
    {
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Connect(tracker.Udp);
        var garbage = new byte[16];
        new Random(16).NextBytes(garbage);
        await socket.SendAsync(garbage);
        var reply = await ReceiveAsync(socket, TimeSpan.FromMilliseconds(500));
        Assert.True(reply is null || reply.Length <= 16, $"16 bytes in, {reply?.Length} bytes out");
        await AssertAnswersAsync(socket);
    }

    [Fact]
    public async Task Generated_datagrams_from_an_unverified_sender_are_never_amplified()
    {
        var random = new Random(BadInputs.Seed);
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Connect(tracker.Udp);
        var sent = new Dictionary<int, int>();
        for (var i = 0; i < 300; i++)
        {
            var transactionId = 1_000_000 + i;
            var length = random.Next(4) switch
            {
                0 => 16,
                1 => random.Next(16, 40),
                2 => 98,
                _ => random.Next(16, 400),
            };
            var connectionId = random.Next(3) switch
            {
                0 => ProtocolId ^ (ulong)random.Next(1, 1 << 30),
                1 => (ulong)random.NextInt64(),
                _ => ProtocolId,
            };
            var action = random.Next(4) switch
            {
                0 => random.Next(),
                1 => 1,
                2 => 2,
                _ => random.Next(0, 5),
            };
            var packet = Datagram(connectionId, action, transactionId, length, random);
            sent[transactionId] = packet.Length;
            await socket.SendAsync(packet);
        }

        // Short datagrams (no transaction id to answer) are part of the garbage too.
        for (var length = 0; length < 16; length++)
        {
            await socket.SendAsync(BadInputs.RandomBytes(random, length));
        }

        var replies = 0;
        while (await ReceiveAsync(socket, TimeSpan.FromMilliseconds(500)) is { } reply)
        {
            Assert.True(reply.Length >= 8, $"a {reply.Length}-byte reply (seed {BadInputs.Seed})");
            var transactionId = BinaryPrimitives.ReadInt32BigEndian(reply.AsSpan(4));
            Assert.True(sent.TryGetValue(transactionId, out var requestLength), $"a reply to a transaction never sent: {transactionId} (seed {BadInputs.Seed})");
            var action = BinaryPrimitives.ReadInt32BigEndian(reply);
            // A connect answer (16 bytes to a request of at least 16) is the handshake itself, never larger than its request.
            Assert.True(reply.Length <= requestLength, $"{requestLength} bytes in, {reply.Length} out (action {action}, seed {BadInputs.Seed})");
            replies++;
        }

        output.WriteLine($"{sent.Count + 16} datagrams, {replies} replies, seed {BadInputs.Seed}");
        await AssertAnswersAsync(socket);
    }

    [Fact]
    public async Task A_verified_sender_gets_errors_that_name_the_problem()
    {
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Connect(tracker.Udp);
        var id = await ConnectAsync(socket);
        var random = new Random(BadInputs.Seed);
        await socket.SendAsync(Datagram(id, 7, 5, 16, random));
        Assert.Contains("unknown action 7", ErrorText(await ReceiveAsync(socket, TimeSpan.FromSeconds(5))), StringComparison.Ordinal);
        await socket.SendAsync(Datagram(id, 1, 6, 60, random));
        Assert.Contains("announce packet is 60 bytes", ErrorText(await ReceiveAsync(socket, TimeSpan.FromSeconds(5))), StringComparison.Ordinal);

        // An expired or made-up connection id: told so, in no more bytes than were sent (a one-hash scrape is 36 bytes).
        await socket.SendAsync(UdpPacketHandlerTests.ScrapePacket(id ^ 0xFF, 8, Hash(1)));
        var cut = await ReceiveAsync(socket, TimeSpan.FromSeconds(5));
        Assert.NotNull(cut);
        Assert.True(cut.Length <= 36, $"{cut.Length} bytes");
        Assert.Contains("connection id", ErrorText(cut), StringComparison.Ordinal);
    }

    private static string ErrorText(byte[]? reply)
    {
        Assert.NotNull(reply);
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(reply));
        return Encoding.UTF8.GetString(reply.AsSpan(8));
    }

    private static async Task<ulong> ConnectAsync(UdpClient socket)
    {
        await socket.SendAsync(UdpPacketHandlerTests.ConnectPacket(4242));
        while (await ReceiveAsync(socket, TimeSpan.FromSeconds(5)) is { } reply)
        {
            if (reply.Length == 16 && BinaryPrimitives.ReadInt32BigEndian(reply.AsSpan(4)) == 4242)
            {
                return BinaryPrimitives.ReadUInt64BigEndian(reply.AsSpan(8));
            }
        }

        throw new Xunit.Sdk.XunitException("no connect reply");
    }

    /// <summary>The tracker still connects and announces for a well-behaved client.</summary>
    private async Task AssertAnswersAsync(UdpClient socket)
    {
        var id = await ConnectAsync(socket);
        await socket.SendAsync(UdpPacketHandlerTests.AnnouncePacket(id, 99, Hash(3), Peer(3), 6881, left: 0));
        while (await ReceiveAsync(socket, TimeSpan.FromSeconds(5)) is { } reply)
        {
            if (BinaryPrimitives.ReadInt32BigEndian(reply.AsSpan(4)) == 99)
            {
                Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(reply));
                using var http = new HttpClient();
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(tracker.Http, "/health"))).StatusCode);
                return;
            }
        }

        throw new Xunit.Sdk.XunitException("no announce reply after the garbage");
    }

    private static async Task<byte[]?> ReceiveAsync(UdpClient socket, TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return (await socket.ReceiveAsync(timeout.Token)).Buffer;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}

/// <summary>
/// The HTTP tracker against hostile queries, paths, methods and bodies: announce and scrape always answer 200 with a bencoded
/// failure reason (what BitTorrent clients show), everything else is a problem-details 4xx, never a 500 or a stack trace.
/// </summary>
public sealed class HttpTrackerBadInputTests(TrackerServiceFixture tracker) : IClassFixture<TrackerServiceFixture>
{
    private HttpClient Client() => new() { BaseAddress = tracker.Http };

    [Fact]
    public async Task Generated_announce_and_scrape_queries_get_a_failure_reason_never_a_500()
    {
        using var client = Client();
        var random = new Random(BadInputs.Seed);
        foreach (var path in new[] { "/announce", "/scrape" })
        {
            foreach (var (name, value) in BadInputs.ArgumentStrings(30, BadInputs.Seed))
            {
                var key = random.Next(5) switch
                {
                    0 => "info_hash",
                    1 => "peer_id",
                    2 => "port",
                    3 => "event",
                    _ => Uri.EscapeDataString(value.Length > 20 ? value[..20] : value),
                };
                var query = $"{path}?{key}={Uri.EscapeDataString(value.Length > 2000 ? value[..2000] : value)}&info_hash=%{random.Next(256):x2}%zz&port=x";
                using var response = await client.GetAsync(query);
                var body = await response.Content.ReadAsStringAsync();
                var context = $"GET {path} with {name} (seed {BadInputs.Seed})";
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{context}: {(int)response.StatusCode} {body}");
                Assert.StartsWith("d14:failure reason", body, StringComparison.Ordinal);
                BadInputs.AssertNoStackTrace(body, context);
            }
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }

    [Theory]
    [InlineData("GET", "/no-such-path", 404)]
    [InlineData("POST", "/announce", 405)]
    [InlineData("DELETE", "/scrape", 405)]
    public async Task Other_paths_and_methods_get_problem_details(string method, string path, int status)
    {
        using var client = Client();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            // A body small enough to be sent whole before the answer: a server refusing a method may close the connection
            // without reading a large body it has no use for (RFC 9112 9.6), and the client then fails writing it (CI saw
            // a broken pipe for 2 MiB) instead of reading the 405 this test is about.
            request.Content = new ByteArrayContent(new byte[1024]);
        }

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        BadInputs.AssertNoStackTrace(body, $"{method} {path}");
    }

    [Fact]
    public async Task An_oversized_request_line_is_refused_by_the_server_without_a_trace()
    {
        using var client = Client();
        using var response = await client.GetAsync("/announce?info_hash=" + new string('a', 20_000));
        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
        BadInputs.AssertNoStackTrace(await response.Content.ReadAsStringAsync(), "20 KB request line");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }
}
