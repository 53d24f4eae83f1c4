using System.Diagnostics;
using Testbed.Ledger.Blocks;
using Testbed.Ledger.Transactions;
using Testbed.Vm;

namespace Testbed.Ledger.Chain;

/// <summary>Builds the miner's block template on the best tip: which candidate transactions go in, and the header they give.</summary>
internal sealed class BlockTemplateBuilder(ChainState state, ChainOptions options)
{
    /// <summary>
    /// A template on the best tip: the expected difficulty, a timestamp not before the parent's, and the longest prefix of
    /// the candidates (taken in order, each sender's nonces consecutive) that the VM accepts, with the resulting state root.
    /// The caller holds the chain's lock: the VM is changed and reverted here.
    /// </summary>
    public BlockTemplate Create(IEnumerable<SignedTransaction> candidates, Hash256 miner)
    {
        Debug.Assert(state.Gate.IsHeldByCurrentThread, "the template dry-runs the live VM, which only the chain's lock holder may touch");
        var parent = state.Tip;
        var height = parent.Height + 1;
        var selected = new List<SignedTransaction>();
        var pending = new Dictionary<string, long>(StringComparer.Ordinal);
        var budget = (long)state.Network.MaxBlockBytes * 3 / 4 - 4096;
        foreach (var tx in candidates)
        {
            if (selected.Count >= state.Network.MaxTransactionsPerBlock || budget - tx.Token.Length < 0)
            {
                break;
            }

            var expected = pending.TryGetValue(tx.Sender, out var p) ? p : state.NextNonces.GetValueOrDefault(tx.Sender);
            if (tx.Nonce != expected)
            {
                continue;
            }

            selected.Add(tx);
            pending[tx.Sender] = expected + 1;
            budget -= tx.Token.Length + 3;
        }

        PreparedBlock postState;
        while (true)
        {
            try
            {
                // Run once and kept: a block mined on this template is connected with this state (Blockchain.AddMinedBlock).
                postState = state.Vm.Prepare(height, selected.Select(t => t.ToVm()).ToList());
                break;
            }
            catch (VmRejectedException e)
            {
                // Dropping the refused transaction also drops the same sender's later ones, whose nonces now have a gap.
                var bad = e.TransactionIndex >= 0 && e.TransactionIndex < selected.Count ? selected[e.TransactionIndex] : null;
                if (bad is null)
                {
                    selected.Clear();
                    continue;
                }

                selected.RemoveAll(t => t.Sender == bad.Sender && t.Nonce >= bad.Nonce);
            }
        }

        var header = new BlockHeader(
            BlockHeader.CurrentVersion,
            (ulong)height,
            parent.Hash,
            Math.Max(options.NowMs(), parent.Header.TimestampMs),
            state.ExpectedDifficulty(parent),
            TransactionsRoot.Compute(selected.Select(t => t.Token)),
            ChainState.ToHash(postState.Effects.RootAfter),
            miner,
            0);
        return new BlockTemplate(header, selected) { Origin = new TemplateOrigin(state, header, selected.ToArray(), postState) };
    }
}
