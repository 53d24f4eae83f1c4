using Testbed.Tracker.Http;

namespace Testbed.Tracker.Tests.Http;

/// <summary>What the socket fast path takes for itself, and everything it must leave to Kestrel.</summary>
public class RequestHeadTests
{
    private static bool Parse(string text, out RequestHead head) => RequestHead.TryParse(Encoding.Latin1.GetBytes(text), out head);

    [Fact]
    public void A_whole_announce_head_is_parsed_with_its_query_host_trace_context_and_connection()
    {
        const string text = "GET /announce?info_hash=%01&port=1 HTTP/1.1\r\nHost: t:6969\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n" +
                            "tracestate: a=b\r\nConnection: close\r\nUser-Agent: x\r\n\r\n";
        Assert.True(Parse(text, out var head));
        var bytes = Encoding.Latin1.GetBytes(text);
        Assert.Equal(HttpTrackerEndpoints.AnnouncePath, head.Path);
        Assert.Equal("info_hash=%01&port=1", Encoding.Latin1.GetString(bytes[head.Query]));
        Assert.Equal("t:6969", Encoding.Latin1.GetString(bytes[head.Host]));
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Encoding.Latin1.GetString(bytes[head.TraceParent]));
        Assert.Equal("a=b", Encoding.Latin1.GetString(bytes[head.TraceState]));
        Assert.False(head.KeepAlive);
        Assert.Equal(bytes.Length, head.Length);
    }

    [Theory]
    [InlineData("GET /scrape?info_hash=%01 HTTP/1.1\r\nHost: t\r\n\r\n", true, false)]
    [InlineData("GET /announce HTTP/1.0\r\n\r\n", false, true)]
    [InlineData("GET /announce HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true, true)]
    [InlineData("GET /announce?x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", true, false)]
    public void Keep_alive_follows_the_version_and_the_connection_header(string text, bool keepAlive, bool http10)
    {
        Assert.True(Parse(text, out var head));
        Assert.Equal(keepAlive, head.KeepAlive);
        Assert.Equal(http10, head.Http10);
    }

    [Theory]
    [InlineData("GET /announce?x HTTP/1.1\r\nHost: t\r\n")] // head not complete yet
    [InlineData("POST /announce HTTP/1.1\r\nHost: t\r\n\r\n")]
    [InlineData("GET /Announce HTTP/1.1\r\nHost: t\r\n\r\n")]
    [InlineData("GET /announce/x HTTP/1.1\r\nHost: t\r\n\r\n")]
    [InlineData("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")]
    [InlineData("GET http://t/announce HTTP/1.1\r\nHost: t\r\n\r\n")]
    [InlineData("GET /announce HTTP/2.0\r\nHost: t\r\n\r\n")]
    [InlineData("GET /announce HTTP/1.1\r\n\r\n")] // HTTP/1.1 without Host: Kestrel's 400
    [InlineData("GET /announce HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")]
    [InlineData("GET /announce HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")]
    [InlineData("GET /announce HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("GET /announce HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")]
    [InlineData("GET /announce HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n")]
    [InlineData("GET /announce?\u00e9 HTTP/1.1\r\nHost: t\r\n\r\n")]
    [InlineData("GET /announce?a#b HTTP/1.1\r\nHost: t\r\n\r\n")]
    [InlineData("GET /announce HTTP/1.1\r\nHost: t\r\nX-Bad: a\u0001b\r\n\r\n")]
    [InlineData("GET /announce HTTP/1.1\r\nHost: t\r\n folded: value\r\n\r\n")]
    [InlineData("GET /announce HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n")]
    [InlineData("GET  /announce HTTP/1.1\r\nHost: t\r\n\r\n")]
    public void Anything_not_fully_understood_is_left_to_Kestrel(string text) =>
        Assert.False(Parse(text, out _));

    [Fact]
    public void Random_heads_never_throw()
    {
        var random = new Random(7);
        const string alphabet = "GET /announce?scrape HTTP/1.01\r\n:Host Connection close keep-alive Content-Length 0 \t\u0001\u00ff";
        for (var i = 0; i < 20_000; i++)
        {
            var chars = new char[random.Next(0, 200)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            var text = (i % 2 == 0 ? "GET /announce HTTP/1.1\r\n" : "") + new string(chars) + (i % 3 == 0 ? "\r\n\r\n" : "");
            if (Parse(text, out var head))
            {
                Assert.InRange(head.Length, 1, Encoding.Latin1.GetByteCount(text));
            }
        }
    }
}
