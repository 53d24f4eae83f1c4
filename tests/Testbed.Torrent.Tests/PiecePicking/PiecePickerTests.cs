using System.Buffers;
using Testbed.Torrent.PeerWire;
using Testbed.Torrent.PiecePicking;
using Testbed.Torrent.Storage;

namespace Testbed.Torrent.Tests.PiecePicking;

/// <summary>Rarest first, finishing started pieces, endgame duplicates, and refusing unrequested data.</summary>
public sealed class PiecePickerTests
{
    private static TorrentLayout Layout(int pieces, int pieceLength = 32 * 1024) =>
        new(pieceLength, [new FileSpan("f", (long)pieces * pieceLength)], new byte[pieces * 20]);

    private static Bitfield Field(int length, params int[] set)
    {
        var field = new Bitfield(length);
        foreach (var i in set)
        {
            field.Set(i);
        }

        return field;
    }

    [Fact]
    public void The_rarest_piece_the_peer_has_comes_first()
    {
        var layout = Layout(4);
        var picker = new PiecePicker(layout, new Bitfield(4));
        picker.AddAvailability(Field(4, 0, 1, 2, 3));
        picker.AddAvailability(Field(4, 0, 1, 3));
        picker.AddAvailability(Field(4, 0, 3));
        var peer = new object();
        var requests = new List<BlockRequest>();
        picker.Pick(peer, Field(4, 0, 1, 2, 3), 2, requests);
        Assert.All(requests, r => Assert.Equal(2, r.Piece));
        Assert.Equal([0, BlockRequest.StandardLength], requests.Select(r => r.Begin));
    }

    [Fact]
    public void Started_pieces_are_finished_before_new_ones_start()
    {
        var picker = new PiecePicker(Layout(3), new Bitfield(3));
        var all = Field(3, 0, 1, 2);
        picker.AddAvailability(all);
        var a = new object();
        var b = new object();
        var first = new List<BlockRequest>();
        picker.Pick(a, all, 1, first);
        var second = new List<BlockRequest>();
        picker.Pick(b, all, 1, second);
        Assert.Equal(first[0].Piece, second[0].Piece);
        Assert.NotEqual(first[0].Begin, second[0].Begin);
    }

    [Fact]
    public void Endgame_requests_outstanding_blocks_from_a_second_peer_and_cancels_the_loser()
    {
        var picker = new PiecePicker(Layout(1), new Bitfield(1));
        var all = Field(1, 0);
        var a = new object();
        var b = new object();
        var fromA = new List<BlockRequest>();
        picker.Pick(a, all, 10, fromA);
        Assert.Equal(2, fromA.Count);
        Assert.True(picker.IsEndgame());
        var fromB = new List<BlockRequest>();
        picker.Pick(b, all, 10, fromB);
        Assert.Equal(fromA, fromB);

        var cancel = new List<object>();
        var data = new ReadOnlySequence<byte>(new byte[BlockRequest.StandardLength]);
        Assert.Equal(BlockOutcome.Accepted, picker.Receive(b, 0, 0, data, cancel, out var done));
        Assert.Null(done);
        Assert.Equal([a], cancel);
        Assert.Equal(BlockOutcome.Duplicate, picker.Receive(a, 0, 0, data, cancel, out _));
    }

    [Fact]
    public void Data_nobody_asked_for_is_refused()
    {
        var picker = new PiecePicker(Layout(2), new Bitfield(2));
        var all = Field(2, 0, 1);
        var a = new object();
        var requests = new List<BlockRequest>();
        picker.Pick(a, all, 1, requests);
        var stranger = new object();
        var data = new ReadOnlySequence<byte>(new byte[BlockRequest.StandardLength]);
        Assert.Equal(BlockOutcome.Unexpected, picker.Receive(stranger, requests[0].Piece, requests[0].Begin, data, [], out _));
        Assert.Equal(BlockOutcome.Unexpected, picker.Receive(a, requests[0].Piece, requests[0].Begin, new ReadOnlySequence<byte>(new byte[100]), [], out _));
    }

    [Fact]
    public void A_failed_mixed_piece_is_retried_from_one_peer_only()
    {
        var picker = new PiecePicker(Layout(1), new Bitfield(1));
        var all = Field(1, 0);
        var a = new object();
        var b = new object();
        var ra = new List<BlockRequest>();
        var rb = new List<BlockRequest>();
        picker.Pick(a, all, 1, ra);
        picker.Pick(b, all, 1, rb);
        var data = new ReadOnlySequence<byte>(new byte[BlockRequest.StandardLength]);
        picker.Receive(a, 0, ra[0].Begin, data, [], out _);
        picker.Receive(b, 0, rb[0].Begin, data, [], out var done);
        Assert.NotNull(done);
        Assert.Equal(2, done.Contributors.Count);
        picker.Failed(done);
        done.ReleaseBuffer();

        var again = new List<BlockRequest>();
        picker.Pick(a, all, 10, again);
        Assert.Equal(2, again.Count);
        var other = new List<BlockRequest>();
        picker.Pick(b, all, 10, other);
        Assert.Empty(other);
    }
}
