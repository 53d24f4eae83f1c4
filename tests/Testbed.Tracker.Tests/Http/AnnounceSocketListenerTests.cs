using Testbed.Contracts.Settings;
using Testbed.TestSupport;
using Testbed.Torrent.Bencoding;
using Testbed.Tracker.Telemetry;
using static Testbed.Tracker.Tests.Requests;

namespace Testbed.Tracker.Tests.Http;

/// <summary>
/// The socket fast path over real connections: a one-packet announce is answered and closed, a kept-alive connection goes
/// on through Kestrel, and heads it must not take (split, pipelined, other paths) still get Kestrel's answers.
/// </summary>
public class AnnounceSocketListenerTests
{
    private static string AnnounceTarget(int peer, int port, string extra = "") =>
        $"/announce?info_hash={Escape(Hash(77).ToArray())}&peer_id={Escape(Peer(peer).ToArray())}&port={port}&left=10{extra}";

    private static Socket Connect(TrackerServer tracker)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, tracker.Http.Port));
        return socket;
    }

    /// <summary>Reads one response (head and Content-Length body); null when the server closed first.</summary>
    private static (string Head, byte[] Body)? ReadResponse(Socket socket, List<byte> pending)
    {
        var buffer = new byte[8192];
        while (true)
        {
            var all = pending.ToArray();
            var end = all.AsSpan().IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var head = Encoding.ASCII.GetString(all, 0, end);
                var lengthLine = head.Split("\r\n").Single(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                var length = int.Parse(lengthLine[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                if (all.Length >= end + 4 + length)
                {
                    pending.RemoveRange(0, end + 4 + length);
                    return (head, all[(end + 4)..(end + 4 + length)]);
                }
            }

            var read = socket.Receive(buffer);
            if (read == 0)
            {
                return null;
            }

            pending.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    private static BencodeDictionary Answer((string Head, byte[] Body)? response)
    {
        Assert.NotNull(response);
        Assert.StartsWith("HTTP/1.1 200 OK", response.Value.Head, StringComparison.Ordinal);
        return BencodeDecoder.DecodeDictionary(response.Value.Body);
    }

    [Fact]
    public async Task A_one_packet_announce_with_connection_close_is_answered_and_the_connection_closed()
    {
        await using var tracker = await TrackerServer.StartAsync();
        using var socket = Connect(tracker);
        socket.Send(Encoding.ASCII.GetBytes($"GET {AnnounceTarget(1, 7001)} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
        var pending = new List<byte>();
        var answer = Answer(ReadResponse(socket, pending));
        Assert.Equal(30, answer.Require<BencodeInteger>("interval").Value);
        Assert.Equal(1, answer.Require<BencodeInteger>("incomplete").Value);
        Assert.Equal(0, socket.Receive(new byte[16]));
        Assert.Equal(1, tracker.Store.Scrape(Hash(77)).Leechers);
    }

    [Fact]
    public async Task A_kept_alive_connection_goes_on_through_Kestrel_and_other_paths_still_work()
    {
        await using var tracker = await TrackerServer.StartAsync();
        using var socket = Connect(tracker);
        var pending = new List<byte>();
        socket.Send(Encoding.ASCII.GetBytes($"GET {AnnounceTarget(1, 7001)} HTTP/1.1\r\nHost: t\r\n\r\n"));
        Answer(ReadResponse(socket, pending));
        socket.Send(Encoding.ASCII.GetBytes($"GET {AnnounceTarget(2, 7002)} HTTP/1.1\r\nHost: t\r\n\r\n"));
        var second = Answer(ReadResponse(socket, pending));
        Assert.Equal(new byte[] { 127, 0, 0, 1, 0x1B, 0x59 }, second.Require<BencodeString>("peers").Bytes.ToArray());
        socket.Send("GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"u8.ToArray());
        var rest = new List<byte>();
        var buffer = new byte[4096];
        for (var read = socket.Receive(buffer); read > 0; read = socket.Receive(buffer))
        {
            rest.AddRange(buffer.AsSpan(0, read).ToArray());
        }

        var health = Encoding.ASCII.GetString(rest.ToArray());
        Assert.StartsWith("HTTP/1.1 200 OK", health, StringComparison.Ordinal);
        Assert.Contains("Healthy", health, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Split_and_pipelined_requests_are_answered_in_order()
    {
        await using var tracker = await TrackerServer.StartAsync();
        var request = Encoding.ASCII.GetBytes($"GET {AnnounceTarget(1, 7001)} HTTP/1.1\r\nHost: t\r\n\r\n");
        using (var split = Connect(tracker))
        {
            split.Send(request.AsSpan(0, 20));
            await Task.Delay(100);
            split.Send(request.AsSpan(20));
            Answer(ReadResponse(split, []));
        }

        using var pipelined = Connect(tracker);
        var scrape = Encoding.ASCII.GetBytes($"GET /scrape?info_hash={Escape(Hash(77).ToArray())} HTTP/1.1\r\nHost: t\r\n\r\n");
        pipelined.Send([.. request, .. scrape]);
        var pending = new List<byte>();
        Assert.True(Answer(ReadResponse(pipelined, pending)).ContainsKey("peers"));
        Assert.True(Answer(ReadResponse(pipelined, pending)).ContainsKey("files"));
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public async Task Bad_queries_get_the_same_failure_reason_on_either_path(string fastHttp)
    {
        await using var tracker = await TrackerServer.StartAsync(new Dictionary<string, string?> { [TrackerSettings.FastHttp.Key] = fastHttp });
        using var socket = Connect(tracker);
        socket.Send("GET /announce?info_hash=%zz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"u8.ToArray());
        var answer = Answer(ReadResponse(socket, []));
        Assert.Equal("info_hash must be 20 bytes, percent-encoded", answer.Require<BencodeString>("failure reason").Text);
    }

    [Fact]
    public async Task The_announce_span_continues_the_callers_trace()
    {
        using var listener = new SourceSpans(TrackerTelemetry.Name);
        await using var tracker = await TrackerServer.StartAsync();
        using var socket = Connect(tracker);
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        socket.Send(Encoding.ASCII.GetBytes(
            $"GET {AnnounceTarget(5, 7005)} HTTP/1.1\r\nHost: t:1\r\ntraceparent: 00-{traceId}-00f067aa0ba902b7-01\r\nConnection: close\r\n\r\n"));
        Answer(ReadResponse(socket, []));
        var span = Assert.Single(listener.Stopped, s => s.TraceId.ToHexString() == traceId);
        Assert.Equal("00f067aa0ba902b7", span.ParentSpanId.ToHexString());
        Assert.Equal("http://t:1/announce", span.GetTagItem("tracker.url"));
    }
}
