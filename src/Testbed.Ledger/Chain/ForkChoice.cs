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

            return Extend(entry, block, effects);
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

    /// <summary>
    /// Connects a block mined on a template this chain built, with the state the template computed (no signature, work or
    /// VM check: the chain made the template and the node's own wallet signed it). Null, with nothing changed, when the
    /// template is stale (the tip moved, or the live state is not the one it was built on) or the block is not the
    /// template's: the caller then takes the verified path. The caller holds the chain's lock.
    /// </summary>
    public AddBlockResult? TryConnectMined(Block block, TemplateOrigin origin)
    {
        Debug.Assert(state.Gate.IsHeldByCurrentThread, "the chain's lock guards every change of its state");
        var parent = state.Tip;
        if (origin.Chain != state || parent.Hash != block.Header.PreviousHash || !origin.Built(block) ||
            state.Index.ContainsKey(block.Hash) || state.LiveStateRoot != ChainState.ToHash(origin.PostState.Effects.RootBefore))
        {
            return null;
        }

        var entry = new ChainEntry(block.Hash, block.Header, parent.Work + block.Header.Work, parent, StoredBlockStatus.HeaderValid);
        store.WriteBody(block.Hash, block.Token);
        BlockEffects effects;
        try
        {
            effects = connector.Reconnect(block, origin.PostState);
        }
        catch (Exception e) when (e is BlockRejectedException or InvalidOperationException)
        {
            // The state is not the template's after all (nothing was changed): the verified path decides.
            store.DeleteBody(block.Hash);
            return null;
        }

        return Extend(entry, block, effects);
    }

    /// <summary>Makes a block the connector just applied on the tip the new tip, in memory and in one store commit.</summary>
    private AddBlockResult Extend(ChainEntry entry, Block block, BlockEffects effects)
    {
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
}
