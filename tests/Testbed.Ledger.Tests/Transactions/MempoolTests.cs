using Testbed.Ledger.Mempool;

namespace Testbed.Ledger.Tests.Transactions;

public sealed class MempoolTests : TestsWithWallets
{
    [Fact]
    public void Pool_validates_deduplicates_and_refuses_replays_and_vm_rejections()
    {
        using var test = new TestChain(peer: "mempool");
        var pool = new TransactionPool(test.Chain);
        var vote = Forge.Vote(Alice, 0, "P1");
        Assert.True(pool.Add(vote.Token).Accepted);
        Assert.Equal(TransactionRejectionReason.Duplicate, pool.Add(vote.Token).Reason);
        Assert.Equal(TransactionRejectionReason.Duplicate, pool.Add(Forge.Vote(Alice, 0, "P2")).Reason);
        Assert.Equal(TransactionRejectionReason.Malformed, pool.Add("garbage").Reason);

        test.MineAndAdd(Miner, [.. pool.Ordered()]);
        // The pool follows the tip: the mined vote left it when the block connected.
        Assert.Equal(0, pool.Count);
        Assert.Equal(0, pool.Prune());

        // Nonce 0 is used now: a replay is refused even with other content.
        Assert.Equal(TransactionRejectionReason.ReplayedNonce, pool.Add(Forge.Vote(Alice, 0, "P3")).Reason);
        // The VM's dry run refuses a second vote by alice on P1.
        var again = pool.Add(Forge.Vote(Alice, 1, "P1"));
        Assert.Equal(TransactionRejectionReason.VmRejected, again.Reason);
        Assert.False(string.IsNullOrEmpty(again.Detail));
        Assert.True(pool.Add(Forge.Vote(Bob, 0, "P1")).Accepted);
    }

    [Fact]
    public void Pool_is_bounded()
    {
        using var test = new TestChain(peer: "mempool-full");
        var pool = new TransactionPool(test.Chain, capacity: 2);
        Assert.True(pool.Add(Forge.Student(Alice, 0, "S0")).Accepted);
        Assert.True(pool.Add(Forge.Student(Alice, 1, "S1")).Accepted);
        Assert.Equal(TransactionRejectionReason.MempoolFull, pool.Add(Forge.Student(Alice, 2, "S2")).Reason);
    }

    /// <summary>Whatever the arrival order, each sender's transactions come out in nonce order and all of them fit in blocks.</summary>
    [Property(MaxTest = 25)]
    public bool Ordered_keeps_each_senders_nonces_ascending_and_every_transaction_gets_mined(int seed)
    {
        using var test = new TestChain(peer: "mempool-order");
        var pool = new TransactionPool(test.Chain);
        var random = new Random(seed);
        var txs = new[] { Alice, Bob }
            .SelectMany(w => Enumerable.Range(0, 4).Select(n => Forge.Student(w, n, w.Address[..6] + n)))
            .OrderBy(_ => random.Next())
            .ToList();
        foreach (var tx in txs)
        {
            if (!pool.Add(tx).Accepted)
            {
                return false;
            }
        }

        var ordered = pool.Ordered();
        var ascending = ordered.GroupBy(t => t.Sender).All(g => g.Select(t => t.Nonce).SequenceEqual(g.Select(t => t.Nonce).Order()));
        var block = test.MineAndAdd(Miner, [.. ordered]);
        return ascending && block.Transactions.Count == txs.Count && test.Chain.NextNonce(Alice.Address) == 4;
    }
}
