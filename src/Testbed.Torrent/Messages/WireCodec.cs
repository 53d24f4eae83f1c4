using System.Buffers;
using System.Buffers.Binary;

namespace Testbed.Torrent.Messages;

/// <summary>Reads and writes length-prefixed peer wire messages over byte sequences, checking every length first.</summary>
public static class WireCodec
{
    /// <summary>
    /// Reads one message from the front of <paramref name="buffer"/> when it is complete, advancing past it.
    /// Returns false (buffer untouched) when more bytes are needed. Throws <see cref="PeerProtocolException"/>
    /// as soon as the length prefix breaks a bound, before waiting for the body.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, WireLimits limits, out PeerMessage message)
    {
        message = KeepAliveMessage.Instance;
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[5];
        var headLength = (int)Math.Min(5, buffer.Length);
        buffer.Slice(0, headLength).CopyTo(head);
        var length = BinaryPrimitives.ReadUInt32BigEndian(head);
        if (length == 0)
        {
            buffer = buffer.Slice(4);
            return true;
        }

        if (length > (uint)limits.MaxMessageLength)
        {
            throw new PeerProtocolException($"message length {length} exceeds the bound {limits.MaxMessageLength}");
        }

        if (headLength == 5)
        {
            CheckLength((MessageId)head[4], (int)length, limits);
        }

        if (buffer.Length < 4 + length)
        {
            return false;
        }

        var body = buffer.Slice(4, length);
        message = Decode(body, limits);
        buffer = buffer.Slice(4 + length);
        return true;
    }

    /// <summary>Checks a message's announced length against its identifier; fixed-size messages must match exactly.</summary>
    private static void CheckLength(MessageId id, int length, WireLimits limits)
    {
        var ok = id switch
        {
            MessageId.Choke or MessageId.Unchoke or MessageId.Interested or MessageId.NotInterested
                or MessageId.HaveAll or MessageId.HaveNone => length == 1,
            MessageId.Have or MessageId.SuggestPiece or MessageId.AllowedFast => length == 5,
            MessageId.Request or MessageId.Cancel or MessageId.RejectRequest => length == 13,
            MessageId.Piece => length > 9 && length <= WireLimits.MaxPieceMessageLength,
            MessageId.Port => length == 3,
            MessageId.Bitfield => limits.BitfieldBytes is { } n ? length == 1 + n : length <= 1 + WireLimits.MaxUnknownBitfieldBytes,
            MessageId.Extended => length >= 2 && length <= 2 + limits.MaxExtendedLength,
            MessageId.HashRequest or MessageId.HashReject => length == 1 + HashRange.WireLength,
            MessageId.Hashes => length > 1 + HashRange.WireLength && length <= WireLimits.MaxHashesMessageLength && (length - 1 - HashRange.WireLength) % Metainfo.MerkleTree.HashSize == 0,
            _ => true,
        };
        if (!ok)
        {
            throw new PeerProtocolException($"{id} message with length {length} is malformed or too long");
        }
    }

    private static PeerMessage Decode(ReadOnlySequence<byte> body, WireLimits limits)
    {
        var id = (MessageId)body.FirstSpan[0];
        CheckLength(id, (int)body.Length, limits);
        var payload = body.Slice(1);
        Span<byte> fixedPart = stackalloc byte[12];
        switch (id)
        {
            case MessageId.Choke: return StateMessage.Choke;
            case MessageId.Unchoke: return StateMessage.Unchoke;
            case MessageId.Interested: return StateMessage.Interested;
            case MessageId.NotInterested: return StateMessage.NotInterested;
            case MessageId.HaveAll: return StateMessage.HaveAll;
            case MessageId.HaveNone: return StateMessage.HaveNone;
            case MessageId.Have:
            case MessageId.SuggestPiece:
            case MessageId.AllowedFast:
                payload.Slice(0, 4).CopyTo(fixedPart);
                return new PieceIndexMessage(id, ReadIndex(fixedPart, "piece index"));
            case MessageId.Request:
            case MessageId.Cancel:
            case MessageId.RejectRequest:
                payload.Slice(0, 12).CopyTo(fixedPart);
                var block = new BlockRequest(ReadIndex(fixedPart, "piece index"), ReadIndex(fixedPart[4..], "begin"), ReadIndex(fixedPart[8..], "length"));
                return new BlockMessage(id, block);
            case MessageId.Piece:
                payload.Slice(0, 8).CopyTo(fixedPart);
                return new PieceMessage(ReadIndex(fixedPart, "piece index"), ReadIndex(fixedPart[4..], "begin"), payload.Slice(8));
            case MessageId.Bitfield:
                return new BitfieldMessage(payload.ToArray());
            case MessageId.Port:
                payload.Slice(0, 2).CopyTo(fixedPart);
                return new PortMessage(BinaryPrimitives.ReadUInt16BigEndian(fixedPart));
            case MessageId.Extended:
                return new ExtendedMessage(payload.FirstSpan[0], payload.Slice(1).ToArray());
            case MessageId.HashRequest:
            case MessageId.HashReject:
                return new HashRangeMessage(id, ReadHashRange(payload));
            case MessageId.Hashes:
                {
                    var range = ReadHashRange(payload);
                    var hashes = payload.Slice(HashRange.WireLength).ToArray();
                    // The payload carries exactly the base hashes and the uncles its proof layers call for (BEP 52).
                    var count = hashes.Length / Metainfo.MerkleTree.HashSize;
                    if (count != range.Length + Metainfo.MerkleTree.UncleCount(range.Length, range.ProofLayers))
                    {
                        throw new PeerProtocolException($"hashes message carries {count} hashes for {range.Length} asked with {range.ProofLayers} proof layers ({range.Length + Metainfo.MerkleTree.UncleCount(range.Length, range.ProofLayers)} expected)");
                    }

                    return new HashesMessage(range, hashes);
                }

            default:
                return new UnknownMessage((byte)id, (int)body.Length);
        }
    }

    private static HashRange ReadHashRange(ReadOnlySequence<byte> payload)
    {
        Span<byte> fixedPart = stackalloc byte[HashRange.WireLength];
        payload.Slice(0, HashRange.WireLength).CopyTo(fixedPart);
        var root = new Metainfo.PiecesRoot(fixedPart[..Metainfo.PiecesRoot.Length]);
        var numbers = fixedPart[Metainfo.PiecesRoot.Length..];
        var range = new HashRange(root, ReadIndex(numbers, "base layer"), ReadIndex(numbers[4..], "index"), ReadIndex(numbers[8..], "length"), ReadIndex(numbers[12..], "proof layers"));
        // Bounds before any work: a request may not ask for more hashes or a deeper proof than any real file has.
        if (range.BaseLayer > HashRange.MaxBaseLayer || range.Length is < 1 or > HashRange.MaxLength || range.ProofLayers > HashRange.MaxProofLayers)
        {
            throw new PeerProtocolException($"hash range (base layer {range.BaseLayer}, length {range.Length}, proof layers {range.ProofLayers}) breaks the bounds (layer <= {HashRange.MaxBaseLayer}, 1..{HashRange.MaxLength} hashes, <= {HashRange.MaxProofLayers} proof layers)");
        }

        return range;
    }

    private static void WriteHashRange(Span<byte> destination, HashRange range)
    {
        range.PiecesRoot.CopyTo(destination);
        var numbers = destination[Metainfo.PiecesRoot.Length..];
        BinaryPrimitives.WriteUInt32BigEndian(numbers, (uint)range.BaseLayer);
        BinaryPrimitives.WriteUInt32BigEndian(numbers[4..], (uint)range.Index);
        BinaryPrimitives.WriteUInt32BigEndian(numbers[8..], (uint)range.Length);
        BinaryPrimitives.WriteUInt32BigEndian(numbers[12..], (uint)range.ProofLayers);
    }

    private static int ReadIndex(ReadOnlySpan<byte> bytes, string field)
    {
        var value = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        if (value > int.MaxValue)
        {
            throw new PeerProtocolException($"{field} {value} is out of range");
        }

        return (int)value;
    }

    /// <summary>Writes <paramref name="message"/> with its length prefix. Piece messages are written by <see cref="WritePieceHeader"/>.</summary>
    public static void Write(IBufferWriter<byte> writer, PeerMessage message)
    {
        switch (message)
        {
            case KeepAliveMessage:
                WriteHeader(writer, 0, null);
                break;
            case StateMessage s:
                WriteHeader(writer, 1, s.Id);
                break;
            case PieceIndexMessage p:
                {
                    var span = writer.GetSpan(9);
                    BinaryPrimitives.WriteUInt32BigEndian(span, 5);
                    span[4] = (byte)p.Id;
                    BinaryPrimitives.WriteUInt32BigEndian(span[5..], (uint)p.Piece);
                    writer.Advance(9);
                    break;
                }

            case BlockMessage b:
                {
                    var span = writer.GetSpan(17);
                    BinaryPrimitives.WriteUInt32BigEndian(span, 13);
                    span[4] = (byte)b.Id;
                    BinaryPrimitives.WriteUInt32BigEndian(span[5..], (uint)b.Block.Piece);
                    BinaryPrimitives.WriteUInt32BigEndian(span[9..], (uint)b.Block.Begin);
                    BinaryPrimitives.WriteUInt32BigEndian(span[13..], (uint)b.Block.Length);
                    writer.Advance(17);
                    break;
                }

            case BitfieldMessage bf:
                WriteHeader(writer, 1 + bf.Bits.Length, MessageId.Bitfield);
                writer.Write(bf.Bits);
                break;
            case PortMessage port:
                {
                    var span = writer.GetSpan(7);
                    BinaryPrimitives.WriteUInt32BigEndian(span, 3);
                    span[4] = (byte)MessageId.Port;
                    BinaryPrimitives.WriteUInt16BigEndian(span[5..], port.Port);
                    writer.Advance(7);
                    break;
                }

            case ExtendedMessage e:
                {
                    WriteHeader(writer, 2 + e.Payload.Length, MessageId.Extended);
                    var span = writer.GetSpan(1);
                    span[0] = e.ExtendedId;
                    writer.Advance(1);
                    writer.Write(e.Payload);
                    break;
                }

            case HashRangeMessage hr:
                {
                    WriteHeader(writer, 1 + HashRange.WireLength, hr.Id);
                    WriteHashRange(writer.GetSpan(HashRange.WireLength), hr.Range);
                    writer.Advance(HashRange.WireLength);
                    break;
                }

            case HashesMessage h:
                {
                    WriteHeader(writer, 1 + HashRange.WireLength + h.Hashes.Length, MessageId.Hashes);
                    WriteHashRange(writer.GetSpan(HashRange.WireLength), h.Range);
                    writer.Advance(HashRange.WireLength);
                    writer.Write(h.Hashes);
                    break;
                }

            case PieceMessage pm:
                WritePieceHeader(writer.GetSpan(13), pm.Piece, pm.Begin, (int)pm.Data.Length);
                writer.Advance(13);
                foreach (var segment in pm.Data)
                {
                    writer.Write(segment.Span);
                }

                break;
            default:
                throw new ArgumentException($"cannot encode {message.GetType().Name}", nameof(message));
        }
    }

    /// <summary>Writes the 13-byte head of a piece message carrying <paramref name="dataLength"/> bytes; the data follows it.</summary>
    public static void WritePieceHeader(Span<byte> destination, int piece, int begin, int dataLength)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(9 + dataLength));
        destination[4] = (byte)MessageId.Piece;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], (uint)piece);
        BinaryPrimitives.WriteUInt32BigEndian(destination[9..], (uint)begin);
    }

    private static void WriteHeader(IBufferWriter<byte> writer, int length, MessageId? id)
    {
        var span = writer.GetSpan(5);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)length);
        if (id is { } value)
        {
            span[4] = (byte)value;
            writer.Advance(5);
        }
        else
        {
            writer.Advance(4);
        }
    }
}
