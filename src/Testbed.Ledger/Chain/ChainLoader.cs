using System.Diagnostics;
using Testbed.Ledger.Storage;
using Testbed.Ledger.Validation;
using Testbed.Vm;

namespace Testbed.Ledger.Chain;

/// <summary>
/// Keeps the in-memory chain and its store in agreement: creates or loads the store's index, tip, VM state and nonces at
/// open, and checks the store against itself (<see cref="CheckConsistency"/>).
/// </summary>
internal sealed class ChainLoader(ChainState state, ChainStore store, ChainOptions options, BlockVerifier blocks, BlockConnector connector)
{
    /// <summary>Fills the state from the store (writing genesis into a new one); before the chain is shared, so without the lock.</summary>
    public void Load()
    {
        var genesis = state.GenesisEntry;
        var network = store.GetMeta("network");
        if (network is null)
        {
            var commit = new StoreCommit();
            commit.Upserts.Add(genesis.ToStored());
            commit.Tip = new StoredTip(genesis.Hash, state.Vm.SaveState(), new Dictionary<string, long>());
            store.Commit(commit);
            store.SetMeta("network", genesis.Hash.ToArray());
        }
        else if (!network.AsSpan().SequenceEqual(genesis.Hash.Span))
        {
            throw new InvalidDataException($"the chain in {store.Directory} belongs to another network (genesis {Convert.ToHexStringLower(network)}, expected {genesis.Hash})");
        }

        var index = state.Index;
        foreach (var row in store.LoadBlocks())
        {
            if (row.Hash == genesis.Hash)
            {
                index[genesis.Hash] = genesis;
                continue;
            }

            if (!index.TryGetValue(row.Header.PreviousHash, out var parent))
            {
                throw new InvalidDataException($"stored block {row.Hash} has an unknown parent {row.Header.PreviousHash}");
            }

            index[row.Hash] = new ChainEntry(row.Hash, row.Header, row.CumulativeWork, parent, row.Status) { OnMain = row.OnMainChain, Effects = row.Effects };
        }

        var stored = store.LoadTip() ?? throw new InvalidDataException($"the chain in {store.Directory} has no tip");
        state.Tip = index.TryGetValue(stored.Tip, out var t) ? t : throw new InvalidDataException($"the stored tip {stored.Tip} is not in the index");
        state.Vm = OiscMachine.LoadState(stored.VmState, VmMode.Native, options.Vm);
        var tip = state.Tip;
        if (state.LiveStateRoot != tip.Header.StateRoot)
        {
            throw new InvalidDataException($"the stored VM state has root {state.Vm.StateRoot}, the tip {tip.Hash} commits to {tip.Header.StateRoot}");
        }

        foreach (var (sender, nonce) in stored.NextNonces)
        {
            state.NextNonces[sender] = nonce;
        }

        if ((options.Defects & ChainDefects.LoseLastBlock) != 0)
        {
            ForgetTip();
        }
    }

    /// <summary>
    /// Checks the store against itself: SQLite integrity, a contiguous best chain from genesis to the tip, a body file for
    /// every stored block, undo data for every best-chain block; deep also re-verifies every body and replays the best
    /// chain on a fresh VM, which must reach the tip's state root. Returns the problems found (empty when consistent).
    /// The caller holds the chain's lock, so the check sees one state, not one mid-change.
    /// </summary>
    public IReadOnlyList<string> CheckConsistency(bool deep)
    {
        Debug.Assert(state.Gate.IsHeldByCurrentThread, "a check without the chain's lock could see a half-made change");
        var genesis = state.GenesisEntry;
        var tip = state.Tip;
        var problems = new List<string>();
        var integrity = store.IntegrityCheck();
        if (integrity != "ok")
        {
            problems.Add($"sqlite integrity_check: {integrity}");
        }

        var mainCount = 0;
        var path = new List<ChainEntry>();
        for (var e = tip; e is not null; e = e.Parent)
        {
            path.Add(e);
            if (!e.OnMain)
            {
                problems.Add($"block {e.Hash} at height {e.Height} is on the path to the tip but not marked main");
            }

            if (e.Parent is not null && e.Parent.Height != e.Height - 1)
            {
                problems.Add($"block {e.Hash} at height {e.Height} has a parent at height {e.Parent.Height}");
            }
        }

        if (path[^1] != genesis)
        {
            problems.Add("the best chain does not start at genesis");
        }

        foreach (var e in state.Index.Values)
        {
            mainCount += e.OnMain ? 1 : 0;
            if (e != genesis && e.Status != StoredBlockStatus.Invalid && !store.HasBody(e.Hash))
            {
                problems.Add($"block {e.Hash} has no body file");
            }

            if (e.OnMain && e != genesis && e.Effects is null)
            {
                problems.Add($"main-chain block {e.Hash} has no undo data");
            }
        }

        if (mainCount != tip.Height + 1)
        {
            problems.Add($"{mainCount} blocks are marked main, the tip is at height {tip.Height}");
        }

        if (state.LiveStateRoot != tip.Header.StateRoot)
        {
            problems.Add($"VM state root {state.Vm.StateRoot} is not the state root {tip.Header.StateRoot} of the tip {tip.Hash} (height {tip.Height})");
        }

        if (deep && problems.Count == 0)
        {
            var replay = new OiscMachine(VmMode.Native, options.Vm);
            path.Reverse();
            foreach (var e in path.Skip(1))
            {
                try
                {
                    var block = blocks.LoadBlock(e);
                    replay.ApplyBlock(e.Height, block.Transactions.Select(t => t.ToVm()).ToList());
                    if (ChainState.ToHash(replay.StateRoot) != e.Header.StateRoot)
                    {
                        problems.Add($"replaying block {e.Hash} gives state root {replay.StateRoot}, header says {e.Header.StateRoot}");
                        break;
                    }
                }
                catch (Exception ex) when (ex is BlockRejectedException or VmRejectedException or IOException)
                {
                    problems.Add($"block {e.Hash} does not replay: {ex.Message}");
                    break;
                }
            }
        }

        return problems;
    }

    /// <summary>
    /// The <see cref="ChainDefects.LoseLastBlock"/> defect, at open: the best tip (and anything built on it) is removed from
    /// the index and the store, the VM is rolled back to its parent, as if the store had lost its last acknowledged write.
    /// </summary>
    private void ForgetTip()
    {
        var lost = state.Tip;
        if (lost == state.GenesisEntry || lost.Parent is not { } parent)
        {
            return;
        }

        connector.Disconnect(blocks.LoadBlock(lost), BlockEffects.Deserialize(lost.Effects ?? throw new InvalidDataException($"tip {lost.Hash} has no undo data")));
        var gone = state.Index.Values.Where(e => e == lost || ChainState.IsDescendant(e, lost)).ToList();
        var commit = new StoreCommit { Tip = new StoredTip(parent.Hash, state.Vm.SaveState(), state.NextNonces) };
        commit.Deletes.AddRange(gone.Select(e => e.Hash));
        store.Commit(commit);
        foreach (var e in gone)
        {
            state.Index.Remove(e.Hash);
            store.DeleteBody(e.Hash);
        }

        state.Tip = parent;
    }
}
