using System.Numerics;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Metainfo;

namespace Testbed.Peer.Network.Messages;

/// <summary>Catch-up (<c>tb_sync</c>): tip reports, chain-segment requests, offers and refusals; the kind is its <c>t</c>.</summary>
public abstract record SyncMessage : SwarmMessage
{
    /// <summary>Largest info dict of a segment torrent accepted.</summary>
    public const int MaxInfoBytes = 64 * 1024;

    /// <inheritdoc />
    public override string Extension => Sync;

    /// <summary>The value of <c>t</c>.</summary>
    protected abstract string Kind { get; }

    /// <inheritdoc />
    public override BencodeDictionary Encode()
    {
        var payload = new BencodeDictionary { { "t", Kind } };
        AddFields(payload);
        return payload;
    }

    /// <summary>Adds the kind's own fields.</summary>
    protected abstract void AddFields(BencodeDictionary payload);

    /// <summary>Reads a <c>tb_sync</c> payload.</summary>
    public static SyncMessage Decode(BencodeDictionary payload)
    {
        var read = new PayloadReader(payload, "sync message");
        var kind = read.Text("t", 16);
        return kind switch
        {
            "tip" => new TipReport(read.Integer("n", 0, long.MaxValue), read.Work("w")),
            "get" => new SegmentRequest(read.Integer("seg", 0, long.MaxValue)),
            "offer" => new SegmentOfferMessage(
                read.Integer("seg", 0, long.MaxValue), read.Integer("from", 1, long.MaxValue), read.Integer("to", 1, long.MaxValue),
                new InfoHash(read.Bytes("ih", InfoHash.Length, InfoHash.Length)), read.Bytes("info", 1, MaxInfoBytes)),
            "none" => new SegmentUnavailable(read.Integer("seg", 0, long.MaxValue)),
            _ => throw new SwarmMessageException($"sync message: unknown kind 't' = '{kind}'"),
        };
    }
}

/// <summary>The sender's best tip: a hint for catch-up, never trusted.</summary>
public sealed record TipReport(long Height, BigInteger Work) : SyncMessage
{
    /// <inheritdoc />
    protected override string Kind => "tip";

    /// <inheritdoc />
    protected override void AddFields(BencodeDictionary payload)
    {
        payload.Add("n", Height);
        payload.Add("w", SwarmMessages.WorkToHex(Work));
    }
}

/// <summary>A request for chain segment <paramref name="Segment"/> (heights Segment*S+1 .. (Segment+1)*S).</summary>
public sealed record SegmentRequest(long Segment) : SyncMessage
{
    /// <inheritdoc />
    protected override string Kind => "get";

    /// <inheritdoc />
    protected override void AddFields(BencodeDictionary payload) => payload.Add("seg", Segment);
}

/// <summary>An offer of a chain segment: its heights and its torrent (info hash and bencoded info dict).</summary>
public sealed record SegmentOfferMessage(long Segment, long From, long To, InfoHash InfoHash, byte[] Info) : SyncMessage
{
    /// <inheritdoc />
    protected override string Kind => "offer";

    /// <inheritdoc />
    protected override void AddFields(BencodeDictionary payload)
    {
        payload.Add("seg", Segment);
        payload.Add("from", From);
        payload.Add("to", To);
        payload.Add("ih", InfoHash.ToArray());
        payload.Add("info", Info);
    }
}

/// <summary>The sender has no segment <paramref name="Segment"/> to offer (or keeps its chain to itself).</summary>
public sealed record SegmentUnavailable(long Segment) : SyncMessage
{
    /// <inheritdoc />
    protected override string Kind => "none";

    /// <inheritdoc />
    protected override void AddFields(BencodeDictionary payload) => payload.Add("seg", Segment);
}
