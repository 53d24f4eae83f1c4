using Testbed.Ledger.Mempool;
using Testbed.Ledger.Transactions;
using Testbed.Peer.Network;
using Testbed.Peer.Network.Messages;

namespace Testbed.Peer.Propagation;

/// <summary>Transactions: admitted to the mempool (verified, checked against the chain), then gossiped to every other peer once.</summary>
public sealed class TransactionGossip(TransactionPool mempool, NetworkSwarm swarm)
{
    /// <summary>Adds a transaction and, when it is new and valid, sends it to every peer except <paramref name="from"/>.</summary>
    public MempoolAddResult Submit(SignedTransaction transaction, SwarmPeer? from = null)
    {
        var result = mempool.Add(transaction);
        if (result.Accepted)
        {
            var except = from is null ? null : new HashSet<string>(StringComparer.Ordinal) { from.PeerId };
            swarm.Broadcast(new TransactionMessage(transaction.Token), except);
        }

        return result;
    }

    /// <summary>A transaction gossiped by a peer; invalid ones are dropped (they may be stale, not malicious).</summary>
    public void OnTransaction(SwarmPeer peer, TransactionMessage message)
    {
        SignedTransaction transaction;
        try
        {
            transaction = SignedTransaction.Parse(message.Token);
        }
        catch (TransactionRejectedException)
        {
            return;
        }

        Submit(transaction, peer);
    }
}
