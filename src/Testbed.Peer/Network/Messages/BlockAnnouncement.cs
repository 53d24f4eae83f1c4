using System.Numerics;
using Testbed.Ledger;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Metainfo;

namespace Testbed.Peer.Network.Messages;

/// <summary>
/// A new block (<c>tb_block</c>): its hash and height, its torrent (info hash and bencoded info dict), the W3C
/// traceparent of the announcing span (so the receiver continues the miner's trace) and the sender's tip.
/// </summary>
public sealed record BlockAnnouncement(Hash256 Hash, long Height, InfoHash InfoHash, byte[] Info, string? TraceParent, long? TipHeight, BigInteger? TipWork) : SwarmMessage
{
    /// <summary>Largest info dict of a block torrent accepted.</summary>
    public const int MaxInfoBytes = 64 * 1024;

    /// <summary>Longest traceparent accepted (W3C: 55 characters).</summary>
    public const int MaxTraceParentLength = 128;

    /// <inheritdoc />
    public override string Extension => Block;

    /// <inheritdoc />
    public override BencodeDictionary Encode()
    {
        var payload = new BencodeDictionary
        {
            { "h", Hash.ToString() },
            { "n", Height },
            { "ih", InfoHash.ToArray() },
            { "info", Info },
            { "tp", TraceParent ?? "" },
        };
        if (TipHeight is { } tipHeight && TipWork is { } tipWork)
        {
            payload.Add("tn", tipHeight);
            payload.Add("tw", SwarmMessages.WorkToHex(tipWork));
        }

        return payload;
    }

    /// <summary>Reads a <c>tb_block</c> payload.</summary>
    public static BlockAnnouncement Decode(BencodeDictionary payload)
    {
        var read = new PayloadReader(payload, "block announcement");
        var hashText = read.Text("h", 64);
        return new BlockAnnouncement(
            Hash256.TryParse(hashText, out var hash) ? hash : throw new SwarmMessageException($"block announcement: 'h' is not a block hash: '{hashText}'"),
            read.Integer("n", 1, long.MaxValue),
            new InfoHash(read.Bytes("ih", InfoHash.Length, InfoHash.Length)),
            read.Bytes("info", 1, MaxInfoBytes),
            read.TextOrNull("tp", MaxTraceParentLength),
            read.IntegerOrNull("tn", 0, long.MaxValue),
            read.WorkOrNull("tw"));
    }
}
