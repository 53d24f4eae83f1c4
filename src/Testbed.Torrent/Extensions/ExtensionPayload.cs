using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Messages;

namespace Testbed.Torrent.Extensions;

/// <summary>The bencoded dictionary an extension message (BEP 10) carries, read under the message limits.</summary>
internal static class ExtensionPayload
{
    /// <summary>
    /// The payload as a dictionary; anything else is a <see cref="PeerProtocolException"/> whose message starts with
    /// <paramref name="problem"/> (which message was bad) and ends with what the decoder found wrong.
    /// </summary>
    public static BencodeDictionary Decode(ReadOnlyMemory<byte> payload, string problem)
    {
        try
        {
            return BencodeDecoder.DecodeDictionary(payload, BencodeLimits.Message);
        }
        catch (BencodeException e)
        {
            throw new PeerProtocolException($"{problem}: {e.Message}", e);
        }
    }
}
