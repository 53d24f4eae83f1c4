using System.Buffers;
using System.Buffers.Binary;
using FsCheck;
using FsCheck.Xunit;

namespace Testbed.Torrent.Tests.Messages;

/// <summary>The peer wire codec: round trips, bounds checked before the body arrives, fixed lengths enforced.</summary>
public sealed class WireCodecTests
{
    private static readonly WireLimits Limits = new(PieceCount: 100);

    private static byte[] Encode(PeerMessage message) => WireBytes.Encode(message);

    private static PeerMessage DecodeOne(byte[] bytes) => WireBytes.DecodeOne(bytes, Limits);

    [Property]
    public bool Block_messages_round_trip(NonNegativeInt piece, NonNegativeInt begin, PositiveInt length, bool cancel)
    {
        var message = new BlockMessage(cancel ? MessageId.Cancel : MessageId.Request, new BlockRequest(piece.Get, begin.Get, length.Get));
        return DecodeOne(Encode(message)) == message;
    }

    [Property]
    public bool Have_round_trips(NonNegativeInt piece) =>
        DecodeOne(Encode(new PieceIndexMessage(MessageId.Have, piece.Get))) == new PieceIndexMessage(MessageId.Have, piece.Get);

    [Property]
    public bool Piece_messages_round_trip(NonNegativeInt piece, NonNegativeInt begin, byte[] data)
    {
        if (data.Length is 0 or > BlockRequest.StandardLength)
        {
            return true;
        }

        var decoded = (PieceMessage)DecodeOne(Encode(new PieceMessage(piece.Get, begin.Get, new ReadOnlySequence<byte>(data))));
        return decoded.Piece == piece.Get && decoded.Begin == begin.Get && decoded.Data.ToArray().AsSpan().SequenceEqual(data);
    }

    [Fact]
    public void State_bitfield_extended_and_keepalive_messages_round_trip()
    {
        foreach (var message in new PeerMessage[] { StateMessage.Choke, StateMessage.Unchoke, StateMessage.Interested, StateMessage.NotInterested, StateMessage.HaveAll, StateMessage.HaveNone, KeepAliveMessage.Instance, new PortMessage(6881) })
        {
            Assert.Equal(message, DecodeOne(Encode(message)));
        }

        var bitfield = (BitfieldMessage)DecodeOne(Encode(new BitfieldMessage(new byte[13])));
        Assert.Equal(13, bitfield.Bits.Length);
        var extended = (ExtendedMessage)DecodeOne(Encode(new ExtendedMessage(3, [1, 2, 3])));
        Assert.Equal(3, extended.ExtendedId);
        Assert.Equal(new byte[] { 1, 2, 3 }, extended.Payload);
    }

    [Fact]
    public void A_partial_message_waits_for_more_bytes()
    {
        var bytes = Encode(new BlockMessage(MessageId.Request, new BlockRequest(1, 0, 16384)));
        var sequence = new ReadOnlySequence<byte>(bytes.AsMemory(0, 10));
        Assert.False(WireCodec.TryRead(ref sequence, Limits, out _));
        Assert.Equal(10, sequence.Length);
    }

    [Theory]
    [InlineData(MessageId.Piece, 9 + BlockRequest.StandardLength + 1)]
    [InlineData(MessageId.Request, 14)]
    [InlineData(MessageId.Have, 4)]
    [InlineData(MessageId.Bitfield, 1 + 14)]
    [InlineData(MessageId.Choke, 2)]
    [InlineData((MessageId)99, 2_000_000)]
    public void A_length_breaking_a_bound_is_refused_from_the_header_alone(MessageId id, int length)
    {
        var head = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(head, (uint)length);
        head[4] = (byte)id;
        var sequence = new ReadOnlySequence<byte>(head);
        Assert.Throws<PeerProtocolException>(() => WireCodec.TryRead(ref sequence, Limits, out _));
    }

    [Fact]
    public void Unknown_message_ids_within_bounds_are_skipped()
    {
        var bytes = new byte[] { 0, 0, 0, 3, 99, 1, 2 };
        var message = DecodeOne(bytes);
        Assert.Equal(new UnknownMessage(99, 3), message);
    }
}
