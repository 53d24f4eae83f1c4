using System.Diagnostics;
using Testbed.Ledger.Blocks;
using Testbed.Ledger.Storage;
using Testbed.Ledger.Validation;
using Testbed.Vm;

namespace Testbed.Ledger.Chain;

/// <summary>
/// Places a verified block in the chain: refuses what is known invalid or breaks the rules against its parent, extends
/// the best chain, keeps a side branch, or hands a branch with more work to the <see cref="Reorganizer"/>.
/// </summary>
internal sealed class ForkChoice(ChainState state, ChainStore store, ChainOptions options, BlockConnector connector, Reorganizer reorganizer)
{
    /// <summary>Adds a block whose signatures and work were verified; the caller holds the chain's lock.</summary>
    public AddBlockResult Add(Block block)
    {
        Debug.Assert(state.Gate.IsHeldByCurrentThread, "the chain's lock guards every change of its state");
        if (state.Index.TryGetValue(block.Hash, out var known))
        {
            return known.Status == StoredBlockStatus.Invalid
                ? new AddBlockResult(AddBlockStatus.Rejected, block.Hash, block.Height, known.InvalidReason ?? BlockRejectionReason.WrongPreviousHash, "block was found invalid before (it or an ancestor failed replay)")
                : new AddBlockResult(AddBlockStatus.Duplicate, block.Hash, block.Height);
        }

        if (!state.Index.TryGetValue(block.Header.PreviousHash, out var parent))
        {
            return new AddBlockResult(AddBlockStatus.Orphan, block.Hash, block.Height, BlockRejectionReason.WrongPreviousHash, $"parent {block.Header.PreviousHash} is unknown");
        }

        try
        {
            if (parent.Status == StoredBlockStatus.Invalid)
            {
                throw new BlockRejectedException(BlockRejectionReason.WrongPreviousHash, $"parent {parent.Hash} is invalid");
            }

            BlockRules.CheckAgainstParent(state.Network, block.Header, parent.Hash, parent.Header, state.ExpectedDifficulty(parent), options.NowMs());
        }
        catch (BlockRejectedException e)
        {
            return new AddBlockResult(AddBlockStatus.Rejected, block.Hash, block.Height, e.Reason, e.Detail);
        }

        var entry = new ChainEntry(block.Hash, block.Header, parent.Work + block.Header.Work, parent, StoredBlockStatus.HeaderValid);
        store.WriteBody(block.Hash, block.Token);
        if (parent == state.Tip)
        {
            BlockEffects effects;
            try
            {
                effects = connector.Connect(block);
            }
            catch (BlockRejectedException e)
            {
                store.DeleteBody(block.Hash);
                return new AddBlockResult(AddBlockStatus.Rejected, block.Hash, block.Height, e.Reason, e.Detail);
            }

            entry.Status = StoredBlockStatus.Valid;
            entry.OnMain = true;
            entry.Effects = effects.Serialize();
            var commit = new StoreCommit { Tip = new StoredTip(entry.Hash, state.Vm.SaveState(), state.NextNonces) };
            commit.Upserts.Add(entry.ToStored());
            try
            {
                store.Commit(commit);
            }
            catch
            {
                // Keep memory equal to disk: undo the VM and nonces if the commit did not happen.
                connector.Disconnect(block, effects);
                throw;
            }

            state.Index.Add(entry.Hash, entry);
            state.Tip = entry;
            return new AddBlockResult(AddBlockStatus.Connected, block.Hash, block.Height);
        }

        var side = new StoreCommit();
        side.Upserts.Add(entry.ToStored());
        store.Commit(side);
        state.Index.Add(entry.Hash, entry);
        if (entry.Work > state.Tip.Work)
        {
            return reorganizer.Reorganize(entry);
        }

        return new AddBlockResult(AddBlockStatus.SideBranch, block.Hash, block.Height);
    }
}
