using System.Numerics;
using Testbed.Ledger;
using Testbed.Peer.Network.Messages;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Metainfo;

namespace Testbed.Peer.Tests.Network;

/// <summary>The network swarm's typed messages: each survives the wire, and each malformed payload is refused naming its field.</summary>
public sealed class SwarmMessageTests
{
    private static readonly Hash256 Hash = Hash256.Parse("00ab" + new string('c', 60));
    private static readonly InfoHash Torrent = new(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());
    private static readonly byte[] Info = "d4:name3:abce"u8.ToArray();

    public static TheoryData<SwarmMessage> Messages() =>
    [
        new BlockAnnouncement(Hash, 7, Torrent, Info, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 7, BigInteger.Parse("123456789012345678901234567890")),
        new BlockAnnouncement(Hash, 1, Torrent, Info, null, null, null),
        new TransactionMessage("eyJ.eyJ.sig"),
        new TipReport(42, new BigInteger(1) << 100),
        new SegmentRequest(3),
        new SegmentOfferMessage(3, 25, 32, Torrent, Info),
        new SegmentUnavailable(0),
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Every_message_decodes_to_what_was_encoded(SwarmMessage message)
    {
        var wire = message.Encode().Encode();

        var decoded = SwarmMessage.Decode(message.Extension, BencodeDecoder.DecodeDictionary(wire, BencodeLimits.Message));

        Assert.Equal(message.GetType(), decoded.GetType());
        Assert.Equal(wire, decoded.Encode().Encode());
    }

    [Theory]
    [InlineData(SwarmMessage.Block, "d2:ih20:abcdefghijklmnopqrst4:info1:x1:ni5ee", "block announcement: 'h' must be a string")]
    [InlineData(SwarmMessage.Block, "d1:h3:abc2:ih20:abcdefghijklmnopqrst4:info1:x1:ni5ee", "'h' is not a block hash")]
    [InlineData(SwarmMessage.Block, "d1:h64:00abcccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc2:ih3:abc4:info1:x1:ni5ee", "'ih' must be 20 bytes")]
    [InlineData(SwarmMessage.Block, "d1:h64:00abcccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc2:ih20:abcdefghijklmnopqrst4:info1:x1:ni0ee", "'n' must be an integer in 1..")]
    [InlineData(SwarmMessage.Block, "d1:h64:00abcccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc2:ih20:abcdefghijklmnopqrst4:info1:x1:ni5e2:tw3:xyze", "'tw' must be chain work in hex")]
    [InlineData(SwarmMessage.Transaction, "d2:txi5ee", "transaction: 'tx' must be a string")]
    [InlineData(SwarmMessage.Sync, "d3:segi1e1:t4:pinge", "unknown kind 't' = 'ping'")]
    [InlineData(SwarmMessage.Sync, "d3:segi-1e1:t3:gete", "'seg' must be an integer in 0..")]
    [InlineData(SwarmMessage.Sync, "d1:ni3e1:t3:tipe", "'w' must be chain work in hex")]
    [InlineData(SwarmMessage.Sync, "d4:fromi1e2:ih20:abcdefghijklmnopqrst3:segi0e1:t5:offer2:toi8ee", "'info' must be 1..")]
    [InlineData("tb_other", "de", "unknown extension 'tb_other'")]
    public void A_malformed_payload_is_refused_naming_the_field(string extension, string payload, string expected)
    {
        var dict = BencodeDecoder.DecodeDictionary(System.Text.Encoding.ASCII.GetBytes(payload), BencodeLimits.Message);

        var error = Assert.Throws<SwarmMessageException>(() => SwarmMessage.Decode(extension, dict));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
