using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Messages;

namespace Testbed.Torrent.Extensions;

/// <summary>A BEP 9 ut_metadata message: request, data (with the piece bytes after the dictionary) or reject.</summary>
/// <param name="Type">0 request, 1 data, 2 reject.</param>
/// <param name="Piece">Index of the 16 KiB metadata piece.</param>
/// <param name="TotalSize">Size of the whole info dictionary (data messages only).</param>
/// <param name="Data">The piece bytes (data messages only).</param>
public sealed record MetadataMessage(MetadataMessageType Type, int Piece, int? TotalSize = null, byte[]? Data = null)
{
    /// <summary>Metadata is exchanged in pieces of this size (the last may be shorter).</summary>
    public const int PieceSize = 16 * 1024;

    /// <summary>Encodes the message payload (after the extended message id).</summary>
    public byte[] Encode()
    {
        var dict = new BencodeDictionary { { "msg_type", (long)Type }, { "piece", (long)Piece } };
        if (TotalSize is { } total)
        {
            dict.Add("total_size", (long)total);
        }

        var head = dict.Encode();
        if (Data is null)
        {
            return head;
        }

        var all = new byte[head.Length + Data.Length];
        head.CopyTo(all, 0);
        Data.CopyTo(all, head.Length);
        return all;
    }

    /// <summary>Parses a payload; the data of a data message is what follows the dictionary.</summary>
    public static MetadataMessage Parse(ReadOnlyMemory<byte> payload)
    {
        try
        {
            var value = BencodeDecoder.DecodePrefix(payload, out var consumed, BencodeLimits.Message);
            if (value is not BencodeDictionary dict)
            {
                throw new PeerProtocolException("ut_metadata message is not a dictionary");
            }

            var type = dict.GetInteger("msg_type") ?? throw new PeerProtocolException("ut_metadata message has no msg_type");
            var piece = dict.GetInteger("piece") ?? throw new PeerProtocolException("ut_metadata message has no piece");
            if (type is < 0 or > 2 || piece is < 0 or > ExtensionHandshake.MaxMetadataSize / PieceSize)
            {
                throw new PeerProtocolException($"ut_metadata message type {type} piece {piece} is out of range");
            }

            var total = dict.GetInteger("total_size");
            if (total is not null and (< 1 or > ExtensionHandshake.MaxMetadataSize))
            {
                throw new PeerProtocolException($"ut_metadata total_size {total} is out of range");
            }

            var data = (MetadataMessageType)type == MetadataMessageType.Data ? payload[consumed..].ToArray() : null;
            if (data is { Length: > PieceSize })
            {
                throw new PeerProtocolException($"ut_metadata piece of {data.Length} bytes exceeds {PieceSize}");
            }

            return new MetadataMessage((MetadataMessageType)type, (int)piece, (int?)total, data);
        }
        catch (BencodeException e)
        {
            throw new PeerProtocolException($"ut_metadata message is malformed: {e.Message}", e);
        }
    }
}

/// <summary>BEP 9 message types.</summary>
public enum MetadataMessageType
{
    /// <summary>Asks for a piece.</summary>
    Request = 0,

    /// <summary>Carries a piece.</summary>
    Data = 1,

    /// <summary>The sender will not send the piece.</summary>
    Reject = 2,
}
