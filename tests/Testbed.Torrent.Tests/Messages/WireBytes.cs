using System.Buffers;

namespace Testbed.Torrent.Tests.Messages;

/// <summary>Peer wire messages to and from bytes, for the codec tests.</summary>
internal static class WireBytes
{
    /// <summary>What <see cref="WireCodec.Write"/> puts on the wire for <paramref name="message"/>.</summary>
    public static byte[] Encode(PeerMessage message)
    {
        var writer = new ArrayBufferWriter<byte>();
        WireCodec.Write(writer, message);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Reads exactly one message from <paramref name="bytes"/> (nothing may be left over).</summary>
    public static PeerMessage DecodeOne(byte[] bytes, WireLimits limits)
    {
        var sequence = new ReadOnlySequence<byte>(bytes);
        Assert.True(WireCodec.TryRead(ref sequence, limits, out var message));
        Assert.Equal(0, sequence.Length);
        return message;
    }
}
