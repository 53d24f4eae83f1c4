using Testbed.Ledger.Chain;
using Testbed.Ledger.Transactions;

namespace Testbed.Ledger.Mempool;

/// <summary>What the mempool did with an offered transaction.</summary>
public sealed record MempoolAddResult(bool Accepted, Hash256? Id, TransactionRejectionReason? Reason = null, string? Detail = null);

/// <summary>
/// Pending transactions: each is verified (signature, sender = signer), checked against the chain (nonce not used, VM dry
/// run), deduplicated by id and by (sender, nonce), and bounded in number. Ordered by arrival, each sender's in nonce order.
/// Each one admitted is also kept in the chain's <see cref="Blockchain.VerifiedTransactions"/>.
/// </summary>
public sealed class TransactionPool
{
    private readonly Lock _gate = new();
    private readonly Blockchain _chain;
    private readonly int _capacity;
    private readonly Dictionary<Hash256, (SignedTransaction Tx, long Sequence)> _byId = [];
    private readonly Dictionary<(string Sender, long Nonce), Hash256> _bySenderNonce = [];
    private long _sequence;

    /// <summary>A pool over the chain's best tip; it follows the chain: stale transactions leave when the tip changes,
    /// and transactions of blocks a reorganisation disconnected come back when still valid.</summary>
    public TransactionPool(Blockchain chain, int capacity = 10_000)
    {
        _chain = chain;
        _capacity = capacity;
        chain.TransactionsDisconnected += transactions =>
        {
            foreach (var tx in transactions)
            {
                Add(tx);
            }
        };
        chain.TipChanged += _ => Prune();
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byId.Count;
            }
        }
    }

    public MempoolAddResult Add(string token)
    {
        SignedTransaction tx;
        try
        {
            tx = SignedTransaction.Parse(token);
        }
        catch (TransactionRejectedException e)
        {
            return new MempoolAddResult(false, null, e.Reason, e.Detail);
        }

        return Add(tx);
    }

    public MempoolAddResult Add(SignedTransaction tx)
    {
        lock (_gate)
        {
            if (_byId.ContainsKey(tx.Id))
            {
                return new MempoolAddResult(false, tx.Id, TransactionRejectionReason.Duplicate, "transaction is already pending");
            }

            if (_bySenderNonce.ContainsKey((tx.Sender, tx.Nonce)))
            {
                return new MempoolAddResult(false, tx.Id, TransactionRejectionReason.Duplicate, $"another transaction of {tx.Sender} with nonce {tx.Nonce} is pending");
            }

            if (_byId.Count >= _capacity)
            {
                return new MempoolAddResult(false, tx.Id, TransactionRejectionReason.MempoolFull, $"the mempool holds {_capacity} transactions");
            }
        }

        try
        {
            _chain.CheckTransaction(tx);
        }
        catch (TransactionRejectedException e)
        {
            return new MempoolAddResult(false, tx.Id, e.Reason, e.Detail);
        }

        lock (_gate)
        {
            if (!_bySenderNonce.TryAdd((tx.Sender, tx.Nonce), tx.Id))
            {
                return new MempoolAddResult(false, tx.Id, TransactionRejectionReason.Duplicate, $"another transaction of {tx.Sender} with nonce {tx.Nonce} is pending");
            }

            _byId[tx.Id] = (tx, _sequence++);
        }

        // Verified and admitted: the block that carries it will not check its signature again.
        _chain.VerifiedTransactions.Add(tx);
        return new MempoolAddResult(true, tx.Id);
    }

    /// <summary>Pending transactions in block order: by arrival, but a sender's transactions always in nonce order.</summary>
    public IReadOnlyList<SignedTransaction> Ordered()
    {
        lock (_gate)
        {
            // Each sender's slots (arrival positions) are refilled with its transactions sorted by nonce.
            var byArrival = _byId.Values.OrderBy(v => v.Sequence).Select(v => v.Tx).ToList();
            var queues = byArrival.GroupBy(t => t.Sender, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => new Queue<SignedTransaction>(g.OrderBy(t => t.Nonce)), StringComparer.Ordinal);
            return byArrival.Select(t => queues[t.Sender].Dequeue()).ToList();
        }
    }

    public bool Contains(Hash256 id)
    {
        lock (_gate)
        {
            return _byId.ContainsKey(id);
        }
    }

    /// <summary>Drops what the best chain has made stale (nonce already used); call after the tip changed.</summary>
    public int Prune()
    {
        lock (_gate)
        {
            var stale = _byId.Values.Where(v => v.Tx.Nonce < _chain.NextNonce(v.Tx.Sender)).Select(v => v.Tx).ToList();
            foreach (var tx in stale)
            {
                _byId.Remove(tx.Id);
                _bySenderNonce.Remove((tx.Sender, tx.Nonce));
            }

            return stale.Count;
        }
    }
}
