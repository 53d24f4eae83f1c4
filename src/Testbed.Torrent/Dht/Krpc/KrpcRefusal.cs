namespace Testbed.Torrent.Dht.Krpc;

/// <summary>Why a datagram was refused.</summary>
public enum KrpcRefusalKind
{
    /// <summary>Larger than <see cref="KrpcLimits.MaxDatagram"/>.</summary>
    TooLarge,

    /// <summary>Not one bounded, canonical bencode value.</summary>
    NotBencode,

    /// <summary>Bencode, but not a KRPC message (no dictionary, no usable `t` or `y`, unknown `y`).</summary>
    NotKrpc,

    /// <summary>A response or error whose fields are missing or out of bounds.</summary>
    BadReply,

    /// <summary>A well-formed query whose arguments are missing or out of bounds: answered with error 203.</summary>
    BadArguments,

    /// <summary>A well-formed query of a method this node does not serve: answered with error 204.</summary>
    UnknownMethod,
}

/// <summary>A refused datagram: why, and the transaction id when the datagram was a query good enough to answer with an error.</summary>
/// <param name="Kind">The category.</param>
/// <param name="Reason">What exactly was wrong, for logs and tests.</param>
/// <param name="TransactionId">Set only for <see cref="KrpcRefusalKind.BadArguments"/> and <see cref="KrpcRefusalKind.UnknownMethod"/>.</param>
public sealed record KrpcRefusal(KrpcRefusalKind Kind, string Reason, byte[]? TransactionId = null)
{
    /// <summary>The KRPC error code to answer with, or null: garbage, replies and oversized datagrams get no answer at all.</summary>
    public int? ReplyCode => Kind switch
    {
        KrpcRefusalKind.BadArguments => KrpcErrorCode.Protocol,
        KrpcRefusalKind.UnknownMethod => KrpcErrorCode.MethodUnknown,
        _ => null,
    };

    /// <inheritdoc />
    public override string ToString() => $"{Kind}: {Reason}";
}
