using System.Diagnostics;
using Testbed.Ledger.Blocks;
using Testbed.Ledger.Consensus;
using Testbed.Ledger.Storage;
using Testbed.Ledger.Transactions;
using Testbed.Ledger.Validation;
using Testbed.Vm;

namespace Testbed.Ledger.Chain;

/// <summary>
/// A peer's chain: every valid block of every branch, the best chain by cumulative work, the VM state at its tip and the
/// senders' next nonces, all persisted in a <see cref="ChainStore"/>. Thread-safe; one writer at a time.
/// </summary>
public sealed class Blockchain : IDisposable
{
    private readonly Lock gate = new();
    private readonly ChainStore store;
    private readonly ChainOptions options;
    private readonly Dictionary<Hash256, ChainEntry> index = [];
    private readonly Dictionary<string, long> nextNonces = new(StringComparer.Ordinal);
    private readonly ChainEntry genesis;
    private readonly List<SignedTransaction> pendingDisconnected = [];
    private OiscMachine vm;
    private ChainEntry tip;

    private Blockchain(ChainStore store, NetworkConfig network, ChainOptions options)
    {
        this.store = store;
        Network = network;
        this.options = options;
        vm = new OiscMachine(VmMode.Native, options.Vm);
        var header = Genesis.Header(network, ToHash(vm.StateRoot));
        genesis = new ChainEntry(header.ComputeHash(), header, header.Work, null, StoredBlockStatus.Valid) { OnMain = true };
        tip = genesis;
    }

    /// <summary>Raised (outside the chain's lock) after the best tip changed; a miner working on the old tip should stop.</summary>
    public event Action<ChainTip>? TipChanged;

    /// <summary>Raised (outside the lock, before TipChanged) with the transactions of blocks a reorganisation took off the best chain.</summary>
    public event Action<IReadOnlyList<SignedTransaction>>? TransactionsDisconnected;

    public NetworkConfig Network { get; }

    public Hash256 GenesisHash => genesis.Hash;

    public ChainTip Tip
    {
        get
        {
            lock (gate)
            {
                return ToTip(tip);
            }
        }
    }

    /// <summary>The best tip and, read under the same lock, the state root of the live VM (equal to the tip's unless the state drifted).</summary>
    public (ChainTip Tip, Hash256 LiveStateRoot) TipAndLiveStateRoot
    {
        get
        {
            lock (gate)
            {
                return (ToTip(tip), ToHash(vm.StateRoot));
            }
        }
    }

    /// <summary>The deliberate defects this chain runs with (<see cref="ChainDefects.None"/> in every real use).</summary>
    public ChainDefects Defects => options.Defects;

    /// <summary>Every block of the index but genesis (all branches, invalid ones too), by height.</summary>
    public IReadOnlyList<IndexedBlock> IndexedBlocks()
    {
        lock (gate)
        {
            return [.. index.Values.Where(e => e != genesis).OrderBy(e => e.Height).Select(e => new IndexedBlock(e.Hash, e.Height, e.OnMain))];
        }
    }

    /// <summary>Opens (or creates) the chain in a data directory, checking that it belongs to this network and is consistent.</summary>
    public static Blockchain Open(string directory, NetworkConfig network, ChainOptions? options = null)
    {
        network.EnsureValid();
        var store = ChainStore.Open(directory);
        try
        {
            var chain = new Blockchain(store, network, options ?? new ChainOptions());
            chain.Load();
            return chain;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Validates a block and adds it: extends the best chain, stores a side branch, or reorganises.</summary>
    public AddBlockResult AddBlock(string token)
    {
        // Signatures and work are checked before taking the lock: they need no chain state, and peers verify in parallel.
        Block block;
        try
        {
            block = VerifyBlock(token);
        }
        catch (BlockRejectedException e)
        {
            return new AddBlockResult(AddBlockStatus.Rejected, null, -1, e.Reason, e.Detail);
        }

        AddBlockResult result;
        ChainTip? changed = null;
        List<SignedTransaction> disconnected;
        lock (gate)
        {
            var before = tip;
            result = AddLocked(block);
            if (tip != before)
            {
                changed = ToTip(tip);
            }

            disconnected = [.. pendingDisconnected];
            pendingDisconnected.Clear();
        }

        if (disconnected.Count > 0)
        {
            TransactionsDisconnected?.Invoke(disconnected);
        }

        if (changed is not null)
        {
            TipChanged?.Invoke(changed);
        }

        return result;
    }

    /// <summary>The next nonce the chain expects from a sender (0 for a sender it has never seen).</summary>
    public long NextNonce(string sender)
    {
        lock (gate)
        {
            return nextNonces.GetValueOrDefault(sender);
        }
    }

    /// <summary>Mempool admission against the best tip: nonce not already used, VM dry run accepts it.</summary>
    public void CheckTransaction(SignedTransaction transaction)
    {
        lock (gate)
        {
            var expected = nextNonces.GetValueOrDefault(transaction.Sender);
            if (transaction.Nonce < expected)
            {
                throw new TransactionRejectedException(TransactionRejectionReason.ReplayedNonce, $"nonce {transaction.Nonce} of {transaction.Sender} is already used (next is {expected})");
            }

            try
            {
                vm.Validate(transaction.ToVm());
            }
            catch (VmRejectedException e)
            {
                throw new TransactionRejectedException(TransactionRejectionReason.VmRejected, $"action {e.ActionIndex}: {e.Reason}");
            }
        }
    }

    /// <summary>
    /// A template on the best tip: the expected difficulty, a timestamp not before the parent's, and the longest prefix of
    /// the candidates (taken in order, each sender's nonces consecutive) that the VM accepts, with the resulting state root.
    /// </summary>
    public BlockTemplate CreateTemplate(IEnumerable<SignedTransaction> candidates, Hash256 miner)
    {
        lock (gate)
        {
            var parent = tip;
            var height = parent.Height + 1;
            var selected = new List<SignedTransaction>();
            var pending = new Dictionary<string, long>(StringComparer.Ordinal);
            var budget = (long)Network.MaxBlockBytes * 3 / 4 - 4096;
            foreach (var tx in candidates)
            {
                if (selected.Count >= Network.MaxTransactionsPerBlock || budget - tx.Token.Length < 0)
                {
                    break;
                }

                var expected = pending.TryGetValue(tx.Sender, out var p) ? p : nextNonces.GetValueOrDefault(tx.Sender);
                if (tx.Nonce != expected)
                {
                    continue;
                }

                selected.Add(tx);
                pending[tx.Sender] = expected + 1;
                budget -= tx.Token.Length + 3;
            }

            Hash256 root;
            while (true)
            {
                try
                {
                    var effects = vm.ApplyBlock(height, selected.Select(t => t.ToVm()).ToList());
                    root = ToHash(vm.StateRoot);
                    vm.Revert(effects);
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
                Math.Max(NowMs(), parent.Header.TimestampMs),
                ExpectedDifficulty(parent),
                TransactionsRoot.Compute(selected.Select(t => t.Token)),
                root,
                miner,
                0);
            return new BlockTemplate(header, selected);
        }
    }

    /// <summary>The difficulty a block on top of the given block must carry.</summary>
    public uint NextDifficulty(Hash256 parent)
    {
        lock (gate)
        {
            return ExpectedDifficulty(index.TryGetValue(parent, out var e) ? e : throw new KeyNotFoundException($"unknown block {parent}"));
        }
    }

    public bool Contains(Hash256 hash)
    {
        lock (gate)
        {
            return index.ContainsKey(hash);
        }
    }

    /// <summary>The stored JWS of a block (null for genesis, which has none, or an unknown hash).</summary>
    public string? GetBlockToken(Hash256 hash)
    {
        lock (gate)
        {
            return hash == genesis.Hash ? null : store.ReadBody(hash);
        }
    }

    public BlockHeader? GetHeader(Hash256 hash)
    {
        lock (gate)
        {
            return index.TryGetValue(hash, out var e) ? e.Header : null;
        }
    }

    /// <summary>Hashes of the best chain from a height (inclusive), at most count of them.</summary>
    public IReadOnlyList<Hash256> MainChain(long fromHeight, int count)
    {
        lock (gate)
        {
            var result = new List<Hash256>();
            for (var e = tip; e is not null && e.Height >= fromHeight; e = e.Parent)
            {
                result.Add(e.Hash);
            }

            result.Reverse();
            return result.Take(count).ToList();
        }
    }

    /// <summary>The VM state at the best tip as the seed's JSON shape.</summary>
    public string ExportStateJson()
    {
        lock (gate)
        {
            return vm.ExportStateJson();
        }
    }

    /// <summary>
    /// Checks the store against itself: SQLite integrity, a contiguous best chain from genesis to the tip, a body file for
    /// every stored block, undo data for every best-chain block; deep also re-verifies every body and replays the best
    /// chain on a fresh VM, which must reach the tip's state root. Returns the problems found (empty when consistent).
    /// </summary>
    public IReadOnlyList<string> CheckConsistency(bool deep)
    {
        lock (gate)
        {
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

            foreach (var e in index.Values)
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

            if (ToHash(vm.StateRoot) != tip.Header.StateRoot)
            {
                problems.Add($"VM state root {vm.StateRoot} is not the state root {tip.Header.StateRoot} of the tip {tip.Hash} (height {tip.Height})");
            }

            if (deep && problems.Count == 0)
            {
                var replay = new OiscMachine(VmMode.Native, options.Vm);
                path.Reverse();
                foreach (var e in path.Skip(1))
                {
                    try
                    {
                        var block = LoadBlock(e);
                        replay.ApplyBlock(e.Height, block.Transactions.Select(t => t.ToVm()).ToList());
                        if (ToHash(replay.StateRoot) != e.Header.StateRoot)
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
    }

    public void Dispose() => store.Dispose();

    private static Hash256 ToHash(StateRoot root) => new(root.ToArray());

    private static ChainTip ToTip(ChainEntry e) =>
        new(e.Hash, e.Height, e.Work, e.Header.StateRoot, e.Header.TimestampMs, e.Header.DifficultyBits);

    private long NowMs() => options.Time.GetUtcNow().ToUnixTimeMilliseconds();

    private void Load()
    {
        var network = store.GetMeta("network");
        if (network is null)
        {
            var commit = new StoreCommit();
            commit.Upserts.Add(genesis.ToStored());
            commit.Tip = new StoredTip(genesis.Hash, vm.SaveState(), new Dictionary<string, long>());
            store.Commit(commit);
            store.SetMeta("network", genesis.Hash.ToArray());
        }
        else if (!network.AsSpan().SequenceEqual(genesis.Hash.Span))
        {
            throw new InvalidDataException($"the chain in {store.Directory} belongs to another network (genesis {Convert.ToHexStringLower(network)}, expected {genesis.Hash})");
        }

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
        tip = index.TryGetValue(stored.Tip, out var t) ? t : throw new InvalidDataException($"the stored tip {stored.Tip} is not in the index");
        vm = OiscMachine.LoadState(stored.VmState, VmMode.Native, options.Vm);
        if (ToHash(vm.StateRoot) != tip.Header.StateRoot)
        {
            throw new InvalidDataException($"the stored VM state has root {vm.StateRoot}, the tip {tip.Hash} commits to {tip.Header.StateRoot}");
        }

        foreach (var (sender, nonce) in stored.NextNonces)
        {
            nextNonces[sender] = nonce;
        }

        if ((options.Defects & ChainDefects.LoseLastBlock) != 0)
        {
            ForgetTip();
        }
    }

    private AddBlockResult AddLocked(Block block)
    {
        if (index.TryGetValue(block.Hash, out var known))
        {
            return known.Status == StoredBlockStatus.Invalid
                ? new AddBlockResult(AddBlockStatus.Rejected, block.Hash, block.Height, known.InvalidReason ?? BlockRejectionReason.WrongPreviousHash, "block was found invalid before (it or an ancestor failed replay)")
                : new AddBlockResult(AddBlockStatus.Duplicate, block.Hash, block.Height);
        }

        if (!index.TryGetValue(block.Header.PreviousHash, out var parent))
        {
            return new AddBlockResult(AddBlockStatus.Orphan, block.Hash, block.Height, BlockRejectionReason.WrongPreviousHash, $"parent {block.Header.PreviousHash} is unknown");
        }

        try
        {
            if (parent.Status == StoredBlockStatus.Invalid)
            {
                throw new BlockRejectedException(BlockRejectionReason.WrongPreviousHash, $"parent {parent.Hash} is invalid");
            }

            BlockRules.CheckAgainstParent(Network, block.Header, parent.Hash, parent.Header, ExpectedDifficulty(parent), NowMs());
        }
        catch (BlockRejectedException e)
        {
            return new AddBlockResult(AddBlockStatus.Rejected, block.Hash, block.Height, e.Reason, e.Detail);
        }

        var entry = new ChainEntry(block.Hash, block.Header, parent.Work + block.Header.Work, parent, StoredBlockStatus.HeaderValid);
        store.WriteBody(block.Hash, block.Token);
        if (parent == tip)
        {
            BlockEffects effects;
            try
            {
                effects = Connect(block);
            }
            catch (BlockRejectedException e)
            {
                store.DeleteBody(block.Hash);
                return new AddBlockResult(AddBlockStatus.Rejected, block.Hash, block.Height, e.Reason, e.Detail);
            }

            entry.Status = StoredBlockStatus.Valid;
            entry.OnMain = true;
            entry.Effects = effects.Serialize();
            var commit = new StoreCommit { Tip = new StoredTip(entry.Hash, vm.SaveState(), nextNonces) };
            commit.Upserts.Add(entry.ToStored());
            try
            {
                store.Commit(commit);
            }
            catch
            {
                // Keep memory equal to disk: undo the VM and nonces if the commit did not happen.
                Disconnect(block, effects);
                throw;
            }

            index.Add(entry.Hash, entry);
            tip = entry;
            return new AddBlockResult(AddBlockStatus.Connected, block.Hash, block.Height);
        }

        var side = new StoreCommit();
        side.Upserts.Add(entry.ToStored());
        store.Commit(side);
        index.Add(entry.Hash, entry);
        if (entry.Work > tip.Work)
        {
            return Reorganize(entry);
        }

        return new AddBlockResult(AddBlockStatus.SideBranch, block.Hash, block.Height);
    }

    private AddBlockResult Reorganize(ChainEntry target)
    {
        var oldTip = tip;
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
            var old = LoadBlock(e);
            oldBlocks.Add(old);
            Disconnect(old, BlockEffects.Deserialize(e.Effects!));
        }

        var connected = new List<(ChainEntry Entry, Block Block, BlockEffects Effects)>();
        foreach (var e in newBranch)
        {
            Block block;
            BlockEffects effects;
            try
            {
                block = LoadBlock(e);
                effects = Connect(block);
            }
            catch (BlockRejectedException ex)
            {
                // The new branch is invalid at e: undo it, restore the old branch, and remember e and its descendants as invalid.
                for (var i = connected.Count - 1; i >= 0; i--)
                {
                    Disconnect(connected[i].Block, connected[i].Effects);
                }

                for (var i = oldBranch.Count - 1; i >= 0; i--)
                {
                    oldBranch[i].Effects = Connect(LoadBlock(oldBranch[i])).Serialize();
                }

                var invalid = new StoreCommit();
                foreach (var bad in index.Values.Where(x => x == e || IsDescendant(x, e)))
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

        commit.Tip = new StoredTip(target.Hash, vm.SaveState(), nextNonces);
        store.Commit(commit);
        tip = target;
        if ((options.Defects & ChainDefects.CorruptStateAfterReorg) != 0)
        {
            DriftState(target.Height);
        }

        for (var i = oldBlocks.Count - 1; i >= 0; i--)
        {
            pendingDisconnected.AddRange(oldBlocks[i].Transactions);
        }

        activity?.SetTag(LedgerTelemetry.Result, "ok");
        return new AddBlockResult(AddBlockStatus.Reorganized, target.Hash, target.Height, ReorgDepth: oldBranch.Count);
    }

    /// <summary>Applies a block on the current tip state: nonce rules, VM replay, state root. Atomic: throws with nothing changed.</summary>
    private BlockEffects Connect(Block block)
    {
        var pending = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < block.Transactions.Count; i++)
        {
            var tx = block.Transactions[i];
            var expected = pending.TryGetValue(tx.Sender, out var p) ? p : nextNonces.GetValueOrDefault(tx.Sender);
            if (tx.Nonce != expected)
            {
                var kind = tx.Nonce < expected ? TransactionRejectionReason.ReplayedNonce : TransactionRejectionReason.NonceGap;
                throw new BlockRejectedException(BlockRejectionReason.InvalidTransaction, $"transaction {i}: {kind}: nonce {tx.Nonce} of {tx.Sender}, expected {expected}");
            }

            pending[tx.Sender] = expected + 1;
        }

        BlockEffects effects;
        try
        {
            effects = vm.ApplyBlock(block.Height, block.Transactions.Select(t => t.ToVm()).ToList());
        }
        catch (VmRejectedException e)
        {
            throw new BlockRejectedException(BlockRejectionReason.InvalidTransaction, $"transaction {e.TransactionIndex}: {TransactionRejectionReason.VmRejected}: action {e.ActionIndex}: {e.Reason}");
        }

        var root = ToHash(vm.StateRoot);
        if (root != block.Header.StateRoot)
        {
            vm.Revert(effects);
            throw new BlockRejectedException(BlockRejectionReason.StateRootMismatch, $"replay gives state root {root}, block says {block.Header.StateRoot}");
        }

        foreach (var (sender, next) in pending)
        {
            nextNonces[sender] = next;
        }

        return effects;
    }

    private void Disconnect(Block block, BlockEffects effects)
    {
        vm.Revert(effects);
        for (var i = block.Transactions.Count - 1; i >= 0; i--)
        {
            var tx = block.Transactions[i];
            if (tx.Nonce == 0)
            {
                nextNonces.Remove(tx.Sender);
            }
            else
            {
                nextNonces[tx.Sender] = tx.Nonce;
            }
        }
    }

    private Block LoadBlock(ChainEntry entry)
    {
        var token = store.ReadBody(entry.Hash) ?? throw new InvalidDataException($"block {entry.Hash} has no body file");
        var block = VerifyBlock(token);
        return block.Hash == entry.Hash ? block : throw new InvalidDataException($"body of {entry.Hash} hashes to {block.Hash}");
    }

    private Block VerifyBlock(string token) =>
        Block.Verify(token, Network.MaxBlockBytes, Network.MaxTransactionsPerBlock, options.PeerName, checkSigner: (options.Defects & ChainDefects.SkipSignatureCheck) == 0);

    /// <summary>The <see cref="ChainDefects.CorruptStateAfterReorg"/> defect: a change to the live VM state that no block made.</summary>
    private void DriftState(long height)
    {
        var id = $"DRIFT-{height}-{Guid.NewGuid():N}"[..32];
        try
        {
            vm.ApplyBlock(height, [new VmTransaction(new string('d', 64),
                $$$"""{"actions":[{"action":"register_student","student":{"id":"{{{id}}}","name":"State drift","department":"Broken peer"}}]}""")]);
        }
        catch (VmRejectedException)
        {
            // The drift is the defect; a VM that refuses this one change drifts on the next reorganisation.
        }
    }

    /// <summary>
    /// The <see cref="ChainDefects.LoseLastBlock"/> defect, at open: the best tip (and anything built on it) is removed from
    /// the index and the store, the VM is rolled back to its parent, as if the store had lost its last acknowledged write.
    /// </summary>
    private void ForgetTip()
    {
        var lost = tip;
        if (lost == genesis || lost.Parent is not { } parent)
        {
            return;
        }

        Disconnect(LoadBlock(lost), BlockEffects.Deserialize(lost.Effects ?? throw new InvalidDataException($"tip {lost.Hash} has no undo data")));
        var gone = index.Values.Where(e => e == lost || IsDescendant(e, lost)).ToList();
        var commit = new StoreCommit { Tip = new StoredTip(parent.Hash, vm.SaveState(), nextNonces) };
        commit.Deletes.AddRange(gone.Select(e => e.Hash));
        store.Commit(commit);
        foreach (var e in gone)
        {
            index.Remove(e.Hash);
            store.DeleteBody(e.Hash);
        }

        tip = parent;
    }

    private uint ExpectedDifficulty(ChainEntry parent) =>
        DifficultyRetarget.Next(Network, parent.Height, parent.Header.DifficultyBits, height => Ancestor(parent, height).Header.TimestampMs);

    private static ChainEntry Ancestor(ChainEntry from, long height)
    {
        var e = from;
        while (e.Height > height)
        {
            e = e.Parent!;
        }

        return e;
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

    private static bool IsDescendant(ChainEntry candidate, ChainEntry ancestor)
    {
        for (var e = candidate.Parent; e is not null && e.Height >= ancestor.Height; e = e.Parent)
        {
            if (e == ancestor)
            {
                return true;
            }
        }

        return false;
    }
}
