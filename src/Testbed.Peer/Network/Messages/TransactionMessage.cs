using Testbed.Ledger.Transactions;
using Testbed.Torrent.Bencoding;

namespace Testbed.Peer.Network.Messages;

/// <summary>A signed transaction gossiped to the mempools (<c>tb_tx</c>): its compact JWS.</summary>
public sealed record TransactionMessage(string Token) : SwarmMessage
{
    /// <inheritdoc />
    public override string Extension => Transaction;

    /// <inheritdoc />
    public override BencodeDictionary Encode() => new() { { "tx", Token } };

    /// <summary>Reads a <c>tb_tx</c> payload.</summary>
    public static TransactionMessage Decode(BencodeDictionary payload) =>
        new(new PayloadReader(payload, "transaction").Text("tx", SignedTransaction.MaxTokenLength));
}
