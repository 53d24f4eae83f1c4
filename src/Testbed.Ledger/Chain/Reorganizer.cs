using Testbed.Ledger.Blocks;
using Testbed.Ledger.Storage;
using Testbed.Ledger.Transactions;
using Testbed.Ledger.Validation;
using Testbed.Vm;

namespace Testbed.Ledger.Chain;

/// <summary>
/// Switches the best chain to a branch with more work: rolls the VM back to the fork point, replays the new branch with
/// full validation and commits both in one store transaction; a branch that fails replay is marked invalid instead.
/// Runs under the chain's lock.
/// </summary>
internal sealed class Reorganizer(ChainState state, ChainStore store, ChainOptions options, BlockVerifier blocks, BlockConnector connector)
{
    // Filled under the lock by a reorganisation, taken (under the same lock) by the chain to raise TransactionsDisconnected outside it.
    private readonly List<SignedTransaction> _pendingDisconnected = [];

    /// <summary>The transactions of the blocks reorganisations took off the best chain since the last call, oldest block first.</summary>
    public List<SignedTransaction> TakeDisconnected()
    {
        List<SignedTransaction> disconnected = [.. _pendingDisconnected];
        _pendingDisconnected.Clear();
        return disconnected;
    }

    public AddBlockResult Reorganize(ChainEntry target)
    {
        var oldTip = state.Tip;
        var fork = CommonAncestor(oldTip, target);
        var oldBranch = new List<ChainEntry>();
        for (var e = oldTip; e != fork; e = e.Parent!)
        {
            oldBranch.Add(e);
        }

        var newBranch = new List<ChainEntry>();
        for (var e = target; e != fork; e = e.Parent!)
        {
            newBranch.Add(e);
        }

        newBranch.Reverse();
        using var activity = LedgerTelemetry.Source.StartActivity("chain.reorg");
        activity?.SetTag(LedgerTelemetry.Peer, options.PeerName);
        activity?.SetTag(LedgerTelemetry.ReorgDepth, oldBranch.Count);
        activity?.SetTag(LedgerTelemetry.OldTip, oldTip.Hash.ToString());
        activity?.SetTag(LedgerTelemetry.NewTip, target.Hash.ToString());

        // Roll the VM back to the fork point, newest block first.
        var oldBlocks = new List<Block>();
        foreach (var e in oldBranch)
        {
            var old = blocks.LoadBlock(e);
            oldBlocks.Add(old);
            connector.Disconnect(old, BlockEffects.Deserialize(e.Effects!));
        }

        var connected = new List<(ChainEntry Entry, Block Block, BlockEffects Effects)>();
        foreach (var e in newBranch)
        {
            Block block;
            BlockEffects effects;
            try
            {
                block = blocks.LoadBlock(e);
                effects = connector.Connect(block);
            }
            catch (BlockRejectedException ex)
            {
                // The new branch is invalid at e: undo it, restore the old branch, and remember e and its descendants as invalid.
                for (var i = connected.Count - 1; i >= 0; i--)
                {
                    connector.Disconnect(connected[i].Block, connected[i].Effects);
                }

                for (var i = oldBranch.Count - 1; i >= 0; i--)
                {
                    oldBranch[i].Effects = connector.Connect(blocks.LoadBlock(oldBranch[i])).Serialize();
                }

                var invalid = new StoreCommit();
                foreach (var bad in state.Index.Values.Where(x => x == e || ChainState.IsDescendant(x, e)))
                {
                    bad.Status = StoredBlockStatus.Invalid;
                    bad.InvalidReason = bad == e ? ex.Reason : BlockRejectionReason.WrongPreviousHash;
                    invalid.Upserts.Add(bad.ToStored());
                }

                store.Commit(invalid);
                activity?.SetTag(LedgerTelemetry.Result, "rejected");
                return new AddBlockResult(AddBlockStatus.Rejected, target.Hash, target.Height, ex.Reason, $"block {e.Hash} at height {e.Height} of the new branch: {ex.Detail}");
            }

            connected.Add((e, block, effects));
        }

        var commit = new StoreCommit();
        foreach (var e in oldBranch)
        {
            e.OnMain = false;
            e.Effects = null;
            commit.Upserts.Add(e.ToStored());
        }

        foreach (var (e, _, effects) in connected)
        {
            e.OnMain = true;
            e.Status = StoredBlockStatus.Valid;
            e.Effects = effects.Serialize();
            commit.Upserts.Add(e.ToStored());
        }

        commit.Tip = new StoredTip(target.Hash, state.Vm.SaveState(), state.NextNonces);
        store.Commit(commit);
        state.Tip = target;
        if ((options.Defects & ChainDefects.CorruptStateAfterReorg) != 0)
        {
            DriftState(target.Height);
        }

        for (var i = oldBlocks.Count - 1; i >= 0; i--)
        {
            _pendingDisconnected.AddRange(oldBlocks[i].Transactions);
        }

        activity?.SetTag(LedgerTelemetry.Result, "ok");
        return new AddBlockResult(AddBlockStatus.Reorganized, target.Hash, target.Height, ReorgDepth: oldBranch.Count);
    }

    private static ChainEntry CommonAncestor(ChainEntry a, ChainEntry b)
    {
        while (a.Height > b.Height)
        {
            a = a.Parent!;
        }

        while (b.Height > a.Height)
        {
            b = b.Parent!;
        }

        while (a != b)
        {
            a = a.Parent!;
            b = b.Parent!;
        }

        return a;
    }

    /// <summary>The <see cref="ChainDefects.CorruptStateAfterReorg"/> defect: a change to the live VM state that no block made.</summary>
    private void DriftState(long height)
    {
        var id = $"DRIFT-{height}-{Guid.NewGuid():N}"[..32];
        try
        {
            state.Vm.ApplyBlock(height, [new VmTransaction(new string('d', 64),
                $$$"""{"actions":[{"action":"register_student","student":{"id":"{{{id}}}","name":"State drift","department":"Broken peer"}}]}""")]);
        }
        catch (VmRejectedException)
        {
            // The drift is the defect; a VM that refuses this one change drifts on the next reorganisation.
        }
    }
}
