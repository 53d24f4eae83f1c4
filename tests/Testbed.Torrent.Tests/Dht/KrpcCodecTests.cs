using System.Text;
using FsCheck;
using FsCheck.Xunit;
using Testbed.Torrent.Dht;
using Testbed.Torrent.Dht.Krpc;

namespace Testbed.Torrent.Tests.Dht;

public sealed class KrpcCodecTests
{
    private static readonly byte[] Tid = [0x61, 0x61];
    private static readonly NodeId Sender = NodeId.ParseHex("0123456789abcdef0123456789abcdef01234567");
    private static readonly InfoHash Hash = new("mnopqrstuvwxyz123456"u8);

    private static KrpcMessage RoundTrip(KrpcMessage message)
    {
        var bytes = KrpcCodec.Encode(message);
        Assert.True(KrpcCodec.TryDecode(bytes, out var decoded, out var refusal), refusal?.ToString());
        Assert.Equal(bytes, KrpcCodec.Encode(decoded));
        return decoded;
    }

    [Fact]
    public void Ping_query_is_the_bep5_example_bytes()
    {
        var bytes = KrpcCodec.Encode(new PingQuery(Tid, new NodeId(Encoding.ASCII.GetBytes("abcdefghij0123456789"))));
        Assert.Equal("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public void Queries_round_trip()
    {
        var ping = Assert.IsType<PingQuery>(RoundTrip(new PingQuery(Tid, Sender)));
        Assert.Equal(Sender, ping.Sender);
        var find = Assert.IsType<FindNodeQuery>(RoundTrip(new FindNodeQuery(Tid, Sender, NodeId.ParseHex(new string('f', 40)))));
        Assert.Equal(NodeId.ParseHex(new string('f', 40)), find.Target);
        var get = Assert.IsType<GetPeersQuery>(RoundTrip(new GetPeersQuery(Tid, Sender, Hash)));
        Assert.Equal(Hash, get.InfoHash);
        var announce = Assert.IsType<AnnouncePeerQuery>(RoundTrip(new AnnouncePeerQuery(Tid, Sender, Hash, 6881, [1, 2, 3, 4], ImpliedPort: false)));
        Assert.Equal((6881, false), (announce.Port, announce.ImpliedPort));
        Assert.Equal([1, 2, 3, 4], announce.Token);
        var implied = Assert.IsType<AnnouncePeerQuery>(RoundTrip(new AnnouncePeerQuery(Tid, Sender, Hash, 0, [9], ImpliedPort: true)));
        Assert.True(implied.ImpliedPort);
    }

    [Fact]
    public void Responses_and_errors_round_trip()
    {
        var nodes = new List<NodeInfo> { new(Sender, new IPEndPoint(IPAddress.Parse("127.0.0.5"), 6881)), new(NodeId.Random(), new IPEndPoint(IPAddress.Parse("10.1.2.3"), 65535)) };
        var values = new List<IPEndPoint> { new(IPAddress.Parse("192.0.2.1"), 1), new(IPAddress.Parse("127.0.0.9"), 51413) };
        var response = Assert.IsType<KrpcResponse>(RoundTrip(new KrpcResponse(Tid, Sender, nodes, values, [7, 7])));
        Assert.Equal(nodes, response.Nodes);
        Assert.Equal(values, response.Values);
        Assert.Equal([7, 7], response.Token);
        var bare = Assert.IsType<KrpcResponse>(RoundTrip(new KrpcResponse(Tid, Sender)));
        Assert.Null(bare.Nodes);
        Assert.Null(bare.Values);
        Assert.Null(bare.Token);
        var error = Assert.IsType<KrpcError>(RoundTrip(new KrpcError(Tid, KrpcErrorCode.Protocol, "bad token")));
        Assert.Equal((203, "bad token"), (error.Code, error.Message));
    }

    [Property]
    public bool Announces_and_get_peers_answers_of_any_bounded_content_round_trip(byte[] transactionId, byte[] token, ushort port, bool implied, uint[] peerAddresses)
    {
        if (transactionId.Length is 0 or > KrpcLimits.MaxTransactionId || token.Length is 0 or > KrpcLimits.MaxToken || (port == 0 && !implied) || peerAddresses.Length > 100)
        {
            return true;
        }

        var announce = (AnnouncePeerQuery)RoundTrip(new AnnouncePeerQuery(transactionId, Sender, Hash, port, token, implied));
        var peers = peerAddresses.Select((a, i) => new IPEndPoint(new IPAddress(a), 1 + i)).ToList();
        var answer = (KrpcResponse)RoundTrip(new KrpcResponse(transactionId, Sender, Values: peers, Token: token));
        return announce.TransactionId.SequenceEqual(transactionId) && announce.Token.SequenceEqual(token)
            && (announce.Port, announce.ImpliedPort) == (port, implied) && answer.Values!.SequenceEqual(peers);
    }

    public static TheoryData<string, KrpcRefusalKind> Refusals() => new()
    {
        { "", KrpcRefusalKind.NotBencode },
        { "garbage", KrpcRefusalKind.NotBencode },
        { "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:q", KrpcRefusalKind.NotBencode },
        { "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe1:x", KrpcRefusalKind.NotBencode },
        { "d1:t2:aa1:y1:q1:ad2:id20:abcdefghij0123456789e1:q4:pinge", KrpcRefusalKind.NotBencode },
        { "l1:t2:aae", KrpcRefusalKind.NotKrpc },
        { "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:y1:qe", KrpcRefusalKind.NotKrpc },
        { "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t0:1:y1:qe", KrpcRefusalKind.NotKrpc },
        { "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t17:aaaaaaaaaaaaaaaaa1:y1:qe", KrpcRefusalKind.NotKrpc },
        { "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:xe", KrpcRefusalKind.NotKrpc },
        { "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:ti5e1:y1:qe", KrpcRefusalKind.NotKrpc },
        { "d1:q4:ping1:t2:aa1:y1:qe", KrpcRefusalKind.NotKrpc },
        { "d1:ali1ee1:q4:ping1:t2:aa1:y1:qe", KrpcRefusalKind.NotKrpc },
        { "d1:ad2:id20:abcdefghij0123456789e1:qi1e1:t2:aa1:y1:qe", KrpcRefusalKind.NotKrpc },
        { "d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ade1:q4:ping1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ad2:id20:abcdefghij01234567896:target3:abce1:q9:find_node1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ad2:id20:abcdefghij01234567899:info_hash21:mnopqrstuvwxyz1234567e1:q9:get_peers1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token2:aae1:q13:announce_peer1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti65536e5:token2:aae1:q13:announce_peer1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token21:aaaaaaaaaaaaaaaaaaaaae1:q13:announce_peer1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token0:e1:q13:announce_peer1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ad2:id20:abcdefghij012345678912:implied_porti2e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token2:aae1:q13:announce_peer1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234565:token2:aae1:q13:announce_peer1:t2:aa1:y1:qe", KrpcRefusalKind.BadArguments },
        { "d1:ad2:id20:abcdefghij0123456789e1:q6:vote!!1:t2:aa1:y1:qe", KrpcRefusalKind.UnknownMethod },
        { "d1:rd2:id19:abcdefghij012345678e1:t2:aa1:y1:re", KrpcRefusalKind.BadReply },
        { "d1:t2:aa1:y1:re", KrpcRefusalKind.BadReply },
        { "d1:rd2:id20:abcdefghij01234567895:nodes25:abcdefghij012345678901234e1:t2:aa1:y1:re", KrpcRefusalKind.BadReply },
        { "d1:rd2:id20:abcdefghij01234567896:valuesl5:abcdeee1:t2:aa1:y1:re", KrpcRefusalKind.BadReply },
        { "d1:rd2:id20:abcdefghij01234567896:valuesl18:abcdefghijklmnopqree1:t2:aa1:y1:re", KrpcRefusalKind.BadReply },
        { "d1:rd2:id20:abcdefghij01234567896:values6:abcdefe1:t2:aa1:y1:re", KrpcRefusalKind.BadReply },
        { "d1:rd2:id20:abcdefghij01234567895:token21:aaaaaaaaaaaaaaaaaaaaae1:t2:aa1:y1:re", KrpcRefusalKind.BadReply },
        { "d1:eli201ee1:t2:aa1:y1:ee".Replace("li201ee", "le", StringComparison.Ordinal), KrpcRefusalKind.BadReply },
        { "d1:e3:abc1:t2:aa1:y1:ee", KrpcRefusalKind.BadReply },
        { "d1:ad2:id20:abcdefghij01234567894:wantllllleeeeee1:q4:ping1:t2:aa1:y1:qe", KrpcRefusalKind.NotBencode },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Malformed_datagrams_are_refused_with_the_right_kind(string datagram, KrpcRefusalKind kind)
    {
        Assert.False(KrpcCodec.TryDecode(Encoding.ASCII.GetBytes(datagram), out var message, out var refusal));
        Assert.Null(message);
        Assert.Equal(kind, refusal.Kind);
        // Only queries that are well-formed up to their arguments deserve an answer, and then with their transaction id.
        if (kind is KrpcRefusalKind.BadArguments or KrpcRefusalKind.UnknownMethod)
        {
            Assert.Equal(kind == KrpcRefusalKind.BadArguments ? 203 : 204, refusal.ReplyCode);
            Assert.Equal("aa"u8.ToArray(), refusal.TransactionId);
        }
        else
        {
            Assert.Null(refusal.ReplyCode);
            Assert.Null(refusal.TransactionId);
        }
    }

    [Fact]
    public void Oversized_datagrams_and_element_floods_are_refused_unread()
    {
        var big = new byte[KrpcLimits.MaxDatagram + 1];
        Assert.False(KrpcCodec.TryDecode(big, out _, out var refusal));
        Assert.Equal(KrpcRefusalKind.TooLarge, refusal.Kind);
        var flood = "d1:ad2:id20:abcdefghij01234567894:wantl" + string.Concat(Enumerable.Repeat("i1e", 300)) + "ee1:q4:ping1:t2:aa1:y1:qe";
        Assert.False(KrpcCodec.TryDecode(Encoding.ASCII.GetBytes(flood), out _, out refusal));
        Assert.Equal(KrpcRefusalKind.NotBencode, refusal.Kind);
    }

    [Fact]
    public void Unknown_keys_and_libtorrent_extras_are_tolerated()
    {
        var datagram = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:wantl2:n4ee1:q9:get_peers1:t2:aa1:v4:LT201:y1:qe";
        Assert.True(KrpcCodec.TryDecode(Encoding.ASCII.GetBytes(datagram), out var message, out var refusal), refusal?.ToString());
        Assert.IsType<GetPeersQuery>(message);
    }
}
