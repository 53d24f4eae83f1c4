using System.Security.Cryptography;
using Testbed.Torrent.Extensions;

namespace Testbed.Torrent.Tests.Extensions;

/// <summary>BEP 10 handshakes, BEP 9 metadata messages and assembly, BEP 11 PEX, BEP 6 allowed-fast sets.</summary>
public sealed class ExtensionMessageTests
{
    [Fact]
    public void Extension_handshake_round_trips()
    {
        var handshake = new ExtensionHandshake(new Dictionary<string, byte> { ["ut_metadata"] = 3, ["ut_pex"] = 0 }, 6881, "x 1.0", 250, 12345);
        var parsed = ExtensionHandshake.Parse(handshake.Encode());
        Assert.Equal((byte)3, parsed.IdOf("ut_metadata"));
        Assert.Null(parsed.IdOf("ut_pex"));
        Assert.Equal(6881, parsed.ListenPort);
        Assert.Equal(250, parsed.RequestQueue);
        Assert.Equal(12345, parsed.MetadataSize);
        Assert.Equal("x 1.0", parsed.Client);
    }

    [Fact]
    public void A_malformed_extension_handshake_is_a_protocol_violation() =>
        Assert.Throws<PeerProtocolException>(() => ExtensionHandshake.Parse("d1:mi3e"u8.ToArray()));

    [Fact]
    public void Metadata_is_assembled_from_pieces_and_checked_against_the_info_hash()
    {
        var info = RandomNumberGenerator.GetBytes(40_000);
        var assembler = new MetadataAssembler(new InfoHash(SHA1.HashData(info)));
        assembler.Offer(info.Length);
        byte[]? result = null;
        for (var piece = 0; piece < 3; piece++)
        {
            var data = info.AsSpan(piece * MetadataMessage.PieceSize, Math.Min(MetadataMessage.PieceSize, info.Length - (piece * MetadataMessage.PieceSize))).ToArray();
            var message = MetadataMessage.Parse(new MetadataMessage(MetadataMessageType.Data, piece, info.Length, data).Encode());
            result = assembler.Accept(message);
        }

        Assert.Equal(info, result);
    }

    [Fact]
    public void Metadata_that_does_not_hash_to_the_info_hash_is_rejected()
    {
        var info = RandomNumberGenerator.GetBytes(100);
        var assembler = new MetadataAssembler(new InfoHash(new byte[20]));
        assembler.Offer(info.Length);
        Assert.Null(assembler.Accept(new MetadataMessage(MetadataMessageType.Data, 0, info.Length, info)));
        Assert.Equal(0, assembler.NextRequest(long.MaxValue));
    }

    [Fact]
    public void Pex_round_trips_ipv4_and_ipv6()
    {
        var added = new List<IPEndPoint> { new(IPAddress.Parse("10.1.2.3"), 6881), new(IPAddress.Parse("::1"), 51413) };
        var dropped = new List<IPEndPoint> { new(IPAddress.Parse("192.168.0.9"), 1) };
        var parsed = PeerExchangeMessage.Parse(new PeerExchangeMessage(added, dropped).Encode());
        Assert.Equal(added, parsed.Added);
        Assert.Equal(dropped, parsed.Dropped);
    }

    [Fact]
    public void A_pex_list_of_the_wrong_length_is_refused() =>
        Assert.Throws<PeerProtocolException>(() => PeerExchangeMessage.Parse("d5:added5:abcdee"u8.ToArray()));

    [Fact]
    public void Allowed_fast_set_follows_bep_6()
    {
        // The example in BEP 6: 80.4.4.200, info hash of 20 bytes 0xaa, 1313 pieces, k = 7.
        var hash = new InfoHash(Enumerable.Repeat((byte)0xaa, 20).ToArray());
        var set = AllowedFastSet.Compute(IPAddress.Parse("80.4.4.200"), hash, 1313, 7);
        Assert.Equal([1059, 431, 808, 1217, 287, 376, 1188], set);
        Assert.Equal(9, AllowedFastSet.Compute(IPAddress.Parse("80.4.4.200"), hash, 1313, 9).Count);
    }
}
