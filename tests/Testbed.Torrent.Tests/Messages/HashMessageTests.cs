using System.Buffers;
using System.Buffers.Binary;

namespace Testbed.Torrent.Tests.Messages;

/// <summary>BEP 52 hash request (21), hashes (22) and hash reject (23): round trips and every refusal of the decoder.</summary>
public sealed class HashMessageTests
{
    private static readonly WireLimits Limits = new(PieceCount: 100);
    private static readonly PiecesRoot Root = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static byte[] Encode(PeerMessage message) => WireBytes.Encode(message);

    private static PeerMessage DecodeOne(byte[] bytes) => WireBytes.DecodeOne(bytes, Limits);

    private static string Refused(byte[] bytes)
    {
        var sequence = new ReadOnlySequence<byte>(bytes);
        return Assert.Throws<PeerProtocolException>(() => WireCodec.TryRead(ref sequence, Limits, out _)).Message;
    }

    // A hash message with a raw payload: 4-byte length, id, then the given bytes (no checks: the decoder is what is tested).
    private static byte[] Raw(MessageId id, byte[] payload)
    {
        var bytes = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(1 + payload.Length));
        bytes[4] = (byte)id;
        payload.CopyTo(bytes, 5);
        return bytes;
    }

    private static byte[] RangeBytes(uint baseLayer, uint index, uint length, uint proofLayers, int hashes = 0)
    {
        var payload = new byte[HashRange.WireLength + (hashes * 32)];
        Root.CopyTo(payload);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(32), baseLayer);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(36), index);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(40), length);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(44), proofLayers);
        return payload;
    }

    [Theory]
    [InlineData(MessageId.HashRequest, 0, 0, 2, 0)]
    [InlineData(MessageId.HashRequest, 3, 512, 512, 10)]
    [InlineData(MessageId.HashReject, 63, int.MaxValue, HashRange.MaxLength, HashRange.MaxProofLayers)]
    public void Hash_request_and_hash_reject_round_trip(MessageId id, int baseLayer, int index, int length, int proofLayers)
    {
        var message = new HashRangeMessage(id, new HashRange(Root, baseLayer, index, length, proofLayers));
        var bytes = Encode(message);
        Assert.Equal(4 + 1 + 48, bytes.Length);
        Assert.Equal(message, DecodeOne(bytes));
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(2, 3)]
    [InlineData(512, 9)]
    public void Hashes_round_trip_with_their_uncles(int length, int uncles)
    {
        var hashes = TestHashes(length + uncles);
        var message = new HashesMessage(new HashRange(Root, 0, 0, length, uncles + System.Numerics.BitOperations.Log2((uint)length) - 1), hashes);
        var decoded = (HashesMessage)DecodeOne(Encode(message));
        Assert.Equal(message.Range, decoded.Range);
        Assert.Equal(hashes, decoded.Hashes);
    }

    [Fact]
    public void Every_broken_bound_is_refused()
    {
        // Fixed-length request and reject: one byte short or long is malformed, before the body is read.
        Assert.Contains("malformed", Refused(Raw(MessageId.HashRequest, RangeBytes(0, 0, 2, 0)[..47])), StringComparison.Ordinal);
        Assert.Contains("malformed", Refused(Raw(MessageId.HashReject, [.. RangeBytes(0, 0, 2, 0), 0])), StringComparison.Ordinal);
        // Fields out of range: a layer above 63, no hashes, more than the cap, a proof deeper than 64 layers, a negative index.
        Assert.Contains("bounds", Refused(Raw(MessageId.HashRequest, RangeBytes(64, 0, 2, 0))), StringComparison.Ordinal);
        Assert.Contains("bounds", Refused(Raw(MessageId.HashRequest, RangeBytes(0, 0, 0, 0))), StringComparison.Ordinal);
        Assert.Contains("bounds", Refused(Raw(MessageId.HashRequest, RangeBytes(0, 0, HashRange.MaxLength + 1, 0))), StringComparison.Ordinal);
        Assert.Contains("bounds", Refused(Raw(MessageId.HashRequest, RangeBytes(0, 0, 2, HashRange.MaxProofLayers + 1))), StringComparison.Ordinal);
        Assert.Contains("out of range", Refused(Raw(MessageId.HashRequest, RangeBytes(0, 0x8000_0000, 2, 0))), StringComparison.Ordinal);
        // Hashes: no hashes at all, a partial hash, fewer or more than the asked ones plus the uncles their proof layers call for.
        Assert.Contains("malformed", Refused(Raw(MessageId.Hashes, RangeBytes(0, 0, 2, 0))), StringComparison.Ordinal);
        Assert.Contains("malformed", Refused(Raw(MessageId.Hashes, [.. RangeBytes(0, 0, 2, 0, hashes: 2), 1])), StringComparison.Ordinal);
        Assert.Contains("carries 1 hashes", Refused(Raw(MessageId.Hashes, RangeBytes(0, 0, 2, 0, hashes: 1))), StringComparison.Ordinal);
        Assert.Contains("carries 5 hashes", Refused(Raw(MessageId.Hashes, RangeBytes(0, 0, 2, 2, hashes: 5))), StringComparison.Ordinal);
        Assert.Contains("carries 3 hashes", Refused(Raw(MessageId.Hashes, RangeBytes(0, 0, 2, 2, hashes: 3))), StringComparison.Ordinal);
        // A hashes message longer than the largest legal one is refused from its length prefix alone.
        var head = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(head, (uint)WireLimits.MaxHashesMessageLength + 32);
        head[4] = (byte)MessageId.Hashes;
        Assert.Contains("exceeds", Refused(head), StringComparison.Ordinal);
    }

    private static byte[] TestHashes(int count)
    {
        var bytes = new byte[count * 32];
        new Random(count).NextBytes(bytes);
        return bytes;
    }
}
