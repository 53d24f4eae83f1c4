using Testbed.Ledger.Mempool;

namespace Testbed.Ledger.Tests.Transactions;

/// <summary>
/// The chain's cache of verified transactions: a block whose transactions the mempool admitted verifies without checking
/// them again, a token that differs in any character is checked in full (and a bad one still rejects the block), the
/// cache keeps its bound, and nothing unverified ever enters it.
/// </summary>
public sealed class VerifiedTransactionCacheTests : TestsWithWallets, IDisposable
{
    private const string Peer = "tx-cache";
    private const int Count = 16; // the test network's most a block holds, over the parallel threshold
    private readonly TestChain _test = new(peer: Peer);

    [Fact]
    public void A_block_of_admitted_transactions_verifies_them_all_from_the_cache()
    {
        var pool = new TransactionPool(_test.Chain);
        var admitted = Admit(pool);
        var cache = _test.Chain.VerifiedTransactions;
        Assert.Equal(Count, cache.Count);
        using var spans = new SpanRecorder();
        var (hits, misses) = (cache.Hits, cache.Misses);

        var block = _test.MineAndAdd(Miner, [.. pool.Ordered()]);

        Assert.Equal(Count, block.Transactions.Count);
        Assert.Equal(hits + Count, cache.Hits);
        Assert.Equal(misses, cache.Misses);
        var span = Assert.Single(spans.For(Peer, "block.verify.transactions"));
        Assert.Equal("ok", span.GetTagItem(LedgerTelemetry.Result));
        Assert.Equal(Count, span.GetTagItem(LedgerTelemetry.TxCacheHits));
        Assert.Equal(0, span.GetTagItem(LedgerTelemetry.TxCacheMisses));

        // Parse makes a new transaction every time: the very objects the mempool admitted show that none was parsed again.
        var verified = Block.Verify(block.Token, _test.Network.MaxBlockBytes, _test.Network.MaxTransactionsPerBlock, cache);
        Assert.All(verified.Transactions, tx => Assert.Same(admitted.Single(a => a.Id == tx.Id), tx));

        // The same block on a chain whose mempool never saw them checks every one.
        using var stranger = new TestChain(peer: Peer + "-stranger");
        Assert.Equal(AddBlockStatus.Connected, stranger.Chain.AddBlock(block.Token).Status);
        Assert.Equal((0, Count), (stranger.Chain.VerifiedTransactions.Hits, stranger.Chain.VerifiedTransactions.Misses));
    }

    [Theory]
    [InlineData(0)] // the JWS header
    [InlineData(1)] // the payload
    [InlineData(2)] // the signature
    public void A_token_changed_in_one_character_misses_and_is_rejected_as_before(int part)
    {
        var pool = new TransactionPool(_test.Chain);
        var admitted = Admit(pool);
        var cache = _test.Chain.VerifiedTransactions;
        var (hits, misses) = (cache.Hits, cache.Misses);
        var transactions = admitted.ToList();
        transactions[7] = transactions[7] with { Token = ChangeOneCharacter(transactions[7].Token, part) };
        var block = Forge.WithTransactions(_test.Chain, Miner, transactions);

        var result = _test.Chain.AddBlock(block.Token);

        Assert.Equal(AddBlockStatus.Rejected, result.Status);
        Assert.Equal(BlockRejectionReason.InvalidTransaction, result.Reason);
        Assert.StartsWith("transaction 7: ", result.Detail, StringComparison.Ordinal);
        Assert.Equal((hits + Count - 1, misses + 1), (cache.Hits, cache.Misses));
        Assert.False(cache.TryGet(transactions[7].Token, out _));
    }

    [Fact]
    public void Only_the_exact_token_hits_whichever_character_differs()
    {
        var cache = new VerifiedTransactionCache(4);
        var tx = Forge.Vote(Alice, 0, "P1");
        Assert.True(cache.Add(tx));

        Assert.True(cache.TryGet(tx.Token, out var found));
        Assert.Same(tx, found);
        for (var i = 0; i < tx.Token.Length; i++)
        {
            Assert.False(cache.TryGet(tx.Token[..i] + (tx.Token[i] == 'A' ? 'B' : 'A') + tx.Token[(i + 1)..], out _), $"character {i} changed, still a hit");
        }

        Assert.False(cache.TryGet(tx.Token + "A", out _));
        Assert.False(cache.TryGet(tx.Token[..^1], out _));
        Assert.Equal((1, tx.Token.Length + 2), (cache.Hits, cache.Misses));
    }

    [Fact]
    public void Past_its_capacity_the_oldest_leaves_and_the_bound_holds()
    {
        var cache = new VerifiedTransactionCache(3);
        var transactions = Enumerable.Range(0, 5).Select(i => Forge.Vote(Alice, i, "P" + i)).ToList();
        foreach (var tx in transactions)
        {
            Assert.True(cache.Add(tx));
            Assert.True(cache.Count <= cache.Capacity);
        }

        Assert.False(cache.Add(transactions[4]));
        Assert.Equal(3, cache.Count);
        Assert.Equal([false, false, true, true, true], transactions.Select(t => cache.TryGet(t.Token, out _)));

        var none = new VerifiedTransactionCache(0);
        Assert.False(none.Add(transactions[0]));
        Assert.Equal(0, none.Count);
    }

    [Fact]
    public void Many_threads_adding_and_looking_up_keep_the_bound()
    {
        var cache = new VerifiedTransactionCache(50);
        var transactions = Enumerable.Range(0, 200).Select(i => Forge.Vote(Alice, i, "P" + i)).ToList();

        Parallel.For(0, transactions.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            cache.Add(transactions[i]);
            cache.TryGet(transactions[(i * 7) % transactions.Count].Token, out _);
        });

        Assert.Equal(50, cache.Count);
        Assert.Equal(50, transactions.Count(t => cache.TryGet(t.Token, out _)));
        Assert.Equal(2 * transactions.Count, cache.Hits + cache.Misses);
    }

    [Fact]
    public void An_invalid_or_refused_transaction_is_never_cached()
    {
        var pool = new TransactionPool(_test.Chain);
        var cache = _test.Chain.VerifiedTransactions;
        var good = Forge.Vote(Alice, 0, "P1");
        var badSignature = ChangeOneCharacter(good.Token, 2);

        Assert.Equal(TransactionRejectionReason.Malformed, pool.Add("garbage").Reason);
        Assert.Equal(TransactionRejectionReason.BadSignature, pool.Add(badSignature).Reason);
        Assert.Equal(0, cache.Count);

        // A record copied with another token did not come from Parse: the cache refuses it, wherever it is offered from.
        var forged = good with { Token = badSignature };
        Assert.False(forged.Equals(good));
        Assert.False(cache.Add(forged));
        pool.Add(forged);
        Assert.False(cache.TryGet(badSignature, out _));
        // Even an unchanged copy: equal to what Parse returned (the mark is not compared), but not taken on trust.
        var copy = good with { };
        Assert.Equal(good, copy);
        Assert.Equal(good.GetHashCode(), copy.GetHashCode());
        Assert.False(cache.Add(copy));
        Assert.Equal(0, cache.Count);

        Assert.True(new TransactionPool(_test.Chain).Add(good.Token).Accepted);
        Assert.True(cache.TryGet(good.Token, out var kept));
        Assert.Equal(good, kept);
        _test.MineAndAdd(Miner, good);

        // Well signed, but refused by the chain (a used nonce, the VM's dry run): not admitted, so not kept.
        var replayed = Forge.Vote(Alice, 0, "P2");
        var refused = Forge.Vote(Alice, 1, "P1");
        Assert.Equal(TransactionRejectionReason.ReplayedNonce, pool.Add(replayed).Reason);
        Assert.Equal(TransactionRejectionReason.VmRejected, pool.Add(refused).Reason);
        Assert.False(cache.TryGet(replayed.Token, out _));
        Assert.False(cache.TryGet(refused.Token, out _));
        Assert.Equal(1, cache.Count);
    }

    public void Dispose()
    {
        _test.Dispose();
        Miner.Dispose();
        Alice.Dispose();
    }

    /// <summary>The token with one character in the middle of one of its three parts swapped for another base64url one.</summary>
    private static string ChangeOneCharacter(string token, int part)
    {
        var start = part == 0 ? 0 : token.IndexOf('.', StringComparison.Ordinal) + 1;
        if (part == 2)
        {
            start = token.LastIndexOf('.') + 1;
        }

        var end = part == 0 ? token.IndexOf('.', StringComparison.Ordinal) : part == 1 ? token.LastIndexOf('.') : token.Length;
        var i = (start + end) / 2;
        return token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
    }

    private List<SignedTransaction> Admit(TransactionPool pool)
    {
        var transactions = Enumerable.Range(0, Count).Select(i => Forge.Student(Alice, i, $"S{i}")).ToList();
        Assert.All(transactions, tx => Assert.True(pool.Add(tx).Accepted));
        return transactions;
    }
}
