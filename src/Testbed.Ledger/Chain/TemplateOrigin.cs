using Testbed.Ledger.Blocks;
using Testbed.Ledger.Transactions;
using Testbed.Vm;

namespace Testbed.Ledger.Chain;

/// <summary>
/// What a chain knows of a template it built: the chain itself, the header and transactions as built (a template changed
/// with <c>with</c> keeps this record, so the block is compared with these, not with the template) and the VM state the
/// block leads to, so a block mined on it is connected without running the VM again.
/// </summary>
internal sealed record TemplateOrigin(ChainState Chain, BlockHeader Header, IReadOnlyList<SignedTransaction> Transactions, PreparedBlock PostState)
{
    /// <summary>True when the block is this template with a nonce: same header but the nonce, the same transactions.</summary>
    public bool Built(Block block) =>
        block.Header with { Nonce = 0 } == Header &&
        block.Transactions.Count == Transactions.Count &&
        block.Transactions.Zip(Transactions).All(pair => pair.First.Token == pair.Second.Token);
}
