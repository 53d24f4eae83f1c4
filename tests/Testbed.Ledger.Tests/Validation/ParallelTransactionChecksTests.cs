namespace Testbed.Ledger.Tests.Validation;

/// <summary>
/// A block of many transactions has their signature checks spread over the cores: the verified block still holds them in
/// block order, and of several bad ones the first in block order is the one named, however the checks were scheduled.
/// </summary>
public sealed class ParallelTransactionChecksTests : TestsWithWallets, IDisposable
{
    private const int Count = 16; // the test network's most a block holds, over the parallel threshold
    private readonly TestChain _test = new(peer: "parallel-checks");

    [Fact]
    public void A_block_of_many_transactions_connects_and_keeps_them_in_block_order()
    {
        var transactions = Students();

        // MineAndAdd asserts that the chain connected it.
        var block = _test.MineAndAdd(Miner, [.. transactions]);

        var verified = Block.Verify(block.Token, _test.Network.MaxBlockBytes, _test.Network.MaxTransactionsPerBlock);
        Assert.Equal(transactions.Select(t => t.Id), verified.Transactions.Select(t => t.Id));
    }

    [Fact]
    public void Of_several_bad_signatures_the_first_in_block_order_is_named()
    {
        var transactions = Students();
        transactions[13] = WithBrokenSignature(transactions[13]);
        transactions[5] = WithBrokenSignature(transactions[5]);
        var block = Forge.WithTransactions(_test.Chain, Miner, transactions);

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var e = Assert.Throws<BlockRejectedException>(() => Block.Verify(block.Token, _test.Network.MaxBlockBytes, _test.Network.MaxTransactionsPerBlock));
            Assert.Equal(BlockRejectionReason.InvalidTransaction, e.Reason);
            Assert.StartsWith($"transaction 5: {TransactionRejectionReason.BadSignature}", e.Detail, StringComparison.Ordinal);
        }
    }

    public void Dispose()
    {
        _test.Dispose();
        Miner.Dispose();
        Alice.Dispose();
    }

    private List<SignedTransaction> Students() => [.. Enumerable.Range(0, Count).Select(i => Forge.Student(Alice, i, $"P{i}"))];

    /// <summary>The same transaction with the last bytes of its signature zeroed: well-formed, but it no longer verifies.</summary>
    private static SignedTransaction WithBrokenSignature(SignedTransaction tx) => tx with { Token = tx.Token[..^4] + "AAAA" };
}
