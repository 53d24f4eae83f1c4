using Testbed.Ledger.Blocks;
using Testbed.Ledger.Transactions;
using Testbed.Ledger.Validation;
using Testbed.Vm;

namespace Testbed.Ledger.Chain;

/// <summary>Moves the tip state (VM and next nonces) one block forward or back: the rules a block must meet to be applied.</summary>
internal sealed class BlockConnector(ChainState state)
{
    /// <summary>Applies a block on the current tip state: nonce rules, VM replay, state root. Atomic: throws with nothing changed.</summary>
    public BlockEffects Connect(Block block)
    {
        var pending = NextNonces(block);
        BlockEffects effects;
        try
        {
            effects = state.Vm.ApplyBlock(block.Height, block.Transactions.Select(t => t.ToVm()).ToList());
        }
        catch (VmRejectedException e)
        {
            throw new BlockRejectedException(BlockRejectionReason.InvalidTransaction, $"transaction {e.TransactionIndex}: {TransactionRejectionReason.VmRejected}: action {e.ActionIndex}: {e.Reason}");
        }

        var root = state.LiveStateRoot;
        if (root != block.Header.StateRoot)
        {
            state.Vm.Revert(effects);
            throw new BlockRejectedException(BlockRejectionReason.StateRootMismatch, $"replay gives state root {root}, block says {block.Header.StateRoot}");
        }

        Advance(pending);
        return effects;
    }

    /// <summary>
    /// Applies a block built on the current tip state from a template whose VM run is kept (<see cref="TemplateOrigin"/>):
    /// the state it computed is written back, the VM does not run again. Throws with nothing changed.
    /// </summary>
    public BlockEffects Reconnect(Block block, PreparedBlock postState)
    {
        var pending = NextNonces(block);
        var effects = state.Vm.Redo(postState);
        Advance(pending);
        return effects;
    }

    // The senders' next nonces after the block, checked against the tip's: each sender's nonces consecutive from the expected one.
    private Dictionary<string, long> NextNonces(Block block)
    {
        var pending = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < block.Transactions.Count; i++)
        {
            var tx = block.Transactions[i];
            var expected = pending.TryGetValue(tx.Sender, out var p) ? p : state.NextNonces.GetValueOrDefault(tx.Sender);
            if (tx.Nonce != expected)
            {
                var kind = tx.Nonce < expected ? TransactionRejectionReason.ReplayedNonce : TransactionRejectionReason.NonceGap;
                throw new BlockRejectedException(BlockRejectionReason.InvalidTransaction, $"transaction {i}: {kind}: nonce {tx.Nonce} of {tx.Sender}, expected {expected}");
            }

            pending[tx.Sender] = expected + 1;
        }

        return pending;
    }

    private void Advance(Dictionary<string, long> pending)
    {
        foreach (var (sender, next) in pending)
        {
            state.NextNonces[sender] = next;
        }
    }

    /// <summary>Undoes a block the tip state had applied, with the undo data its <see cref="Connect"/> returned.</summary>
    public void Disconnect(Block block, BlockEffects effects)
    {
        state.Vm.Revert(effects);
        for (var i = block.Transactions.Count - 1; i >= 0; i--)
        {
            var tx = block.Transactions[i];
            if (tx.Nonce == 0)
            {
                state.NextNonces.Remove(tx.Sender);
            }
            else
            {
                state.NextNonces[tx.Sender] = tx.Nonce;
            }
        }
    }
}
