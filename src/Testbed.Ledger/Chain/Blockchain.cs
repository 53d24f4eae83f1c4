using Testbed.Ledger.Blocks;
using Testbed.Ledger.Consensus;
using Testbed.Ledger.Mining;
using Testbed.Ledger.Storage;
using Testbed.Ledger.Transactions;
using Testbed.Ledger.Validation;
using Testbed.Vm;

namespace Testbed.Ledger.Chain;

/// <summary>
/// A peer's chain: every valid block of every branch, the best chain by cumulative work, the VM state at its tip and the
/// senders' next nonces, all persisted in a <see cref="ChainStore"/>. Thread-safe; one writer at a time.
/// </summary>
/// <remarks>
/// The facade the peer, the CLI and the tests call: it takes the chain's single lock and raises the events outside it;
/// the work is done by <see cref="ForkChoice"/> and <see cref="Reorganizer"/> (adding blocks), <see cref="BlockTemplateBuilder"/>
/// (the miner's templates) and <see cref="ChainLoader"/> (open and the consistency check), all on one <see cref="ChainState"/>.
/// </remarks>
public sealed class Blockchain : IDisposable
{
    private readonly ChainState _state;
    private readonly ChainStore _store;
    private readonly ChainOptions _options;
    private readonly BlockVerifier _blocks;
    private readonly Reorganizer _reorganizer;
    private readonly ForkChoice _forkChoice;
    private readonly BlockTemplateBuilder _templates;
    private readonly ChainLoader _loader;

    private Blockchain(ChainStore store, NetworkConfig network, ChainOptions options)
    {
        _store = store;
        Network = network;
        _options = options;
        _state = new ChainState(network, options.Vm);
        VerifiedTransactions = new VerifiedTransactionCache(options.VerifiedTransactionCapacity);
        _blocks = new BlockVerifier(store, network, options, VerifiedTransactions);
        var connector = new BlockConnector(_state);
        _reorganizer = new Reorganizer(_state, store, options, _blocks, connector);
        _forkChoice = new ForkChoice(_state, store, options, connector, _reorganizer);
        _templates = new BlockTemplateBuilder(_state, options);
        _loader = new ChainLoader(_state, store, options, _blocks, connector);
    }

    /// <summary>Raised (outside the chain's lock) after the best tip changed; a miner working on the old tip should stop.</summary>
    public event Action<ChainTip>? TipChanged;

    /// <summary>Raised (outside the lock, before TipChanged) with the transactions of blocks a reorganisation took off the best chain.</summary>
    public event Action<IReadOnlyList<SignedTransaction>>? TransactionsDisconnected;

    public NetworkConfig Network { get; }

    public Hash256 GenesisHash => _state.GenesisEntry.Hash;

    public ChainTip Tip
    {
        get
        {
            lock (_state.Gate)
            {
                return ToTip(_state.Tip);
            }
        }
    }

    /// <summary>The best tip and, read under the same lock, the state root of the live VM (equal to the tip's unless the state drifted).</summary>
    public (ChainTip Tip, Hash256 LiveStateRoot) TipAndLiveStateRoot
    {
        get
        {
            lock (_state.Gate)
            {
                return (ToTip(_state.Tip), _state.LiveStateRoot);
            }
        }
    }

    /// <summary>
    /// Transactions already verified in full (the mempool keeps each one it admits here): a block carrying them takes them
    /// from it instead of checking their signatures again. Its hits and misses are the chain's too.
    /// </summary>
    public VerifiedTransactionCache VerifiedTransactions { get; }

    /// <summary>The deliberate defects this chain runs with (<see cref="ChainDefects.None"/> in every real use).</summary>
    public ChainDefects Defects => _options.Defects;

    /// <summary>Every block of the index but genesis (all branches, invalid ones too), by height.</summary>
    public IReadOnlyList<IndexedBlock> IndexedBlocks()
    {
        lock (_state.Gate)
        {
            return [.. _state.Index.Values.Where(e => e != _state.GenesisEntry).OrderBy(e => e.Height).Select(e => new IndexedBlock(e.Hash, e.Height, e.OnMain))];
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
            chain._loader.Load();
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
            block = _blocks.Verify(token);
        }
        catch (BlockRejectedException e)
        {
            return new AddBlockResult(AddBlockStatus.Rejected, null, -1, e.Reason, e.Detail);
        }

        return Change(() => _forkChoice.Add(block))!;
    }

    /// <summary>
    /// Adds a block this node mined on one of this chain's templates (<see cref="CreateTemplate"/>). While the tip is still
    /// the template's parent the block is connected with the VM state the template computed: its signature (just made by
    /// our wallet), work (just found) and transactions (just run) are not checked again and the VM does not run again.
    /// A template gone stale (the tip moved) gives no such shortcut: the block then takes <see cref="AddBlock"/>'s fully
    /// verified path (a side branch, usually), as does a block not mined on a template of this chain.
    /// </summary>
    public AddBlockResult AddMinedBlock(MinedBlock mined)
    {
        ArgumentNullException.ThrowIfNull(mined);
        if (mined.Template.Origin is { } origin && Change(() => _forkChoice.TryConnectMined(mined.Block, origin)) is { } result)
        {
            return result;
        }

        return AddBlock(mined.Block.Token);
    }

    /// <summary>Runs a change of the chain under its lock, then raises the events it caused outside the lock.</summary>
    private AddBlockResult? Change(Func<AddBlockResult?> change)
    {
        AddBlockResult? result;
        ChainTip? changed = null;
        List<SignedTransaction> disconnected;
        lock (_state.Gate)
        {
            var before = _state.Tip;
            result = change();
            if (_state.Tip != before)
            {
                changed = ToTip(_state.Tip);
            }

            disconnected = _reorganizer.TakeDisconnected();
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
        lock (_state.Gate)
        {
            return _state.NextNonces.GetValueOrDefault(sender);
        }
    }

    /// <summary>Mempool admission against the best tip: nonce not already used, VM dry run accepts it.</summary>
    public void CheckTransaction(SignedTransaction transaction)
    {
        lock (_state.Gate)
        {
            var expected = _state.NextNonces.GetValueOrDefault(transaction.Sender);
            if (transaction.Nonce < expected)
            {
                throw new TransactionRejectedException(TransactionRejectionReason.ReplayedNonce, $"nonce {transaction.Nonce} of {transaction.Sender} is already used (next is {expected})");
            }

            try
            {
                _state.Vm.Validate(transaction.ToVm());
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
        lock (_state.Gate)
        {
            return _templates.Create(candidates, miner);
        }
    }

    /// <summary>The difficulty a block on top of the given block must carry.</summary>
    public uint NextDifficulty(Hash256 parent)
    {
        lock (_state.Gate)
        {
            return _state.ExpectedDifficulty(_state.Index.TryGetValue(parent, out var e) ? e : throw new KeyNotFoundException($"unknown block {parent}"));
        }
    }

    public bool Contains(Hash256 hash)
    {
        lock (_state.Gate)
        {
            return _state.Index.ContainsKey(hash);
        }
    }

    /// <summary>The stored JWS of a block (null for genesis, which has none, or an unknown hash).</summary>
    public string? GetBlockToken(Hash256 hash)
    {
        lock (_state.Gate)
        {
            return hash == _state.GenesisEntry.Hash ? null : _store.ReadBody(hash);
        }
    }

    public BlockHeader? GetHeader(Hash256 hash)
    {
        lock (_state.Gate)
        {
            return _state.Index.TryGetValue(hash, out var e) ? e.Header : null;
        }
    }

    /// <summary>Hashes of the best chain from a height (inclusive), at most count of them.</summary>
    public IReadOnlyList<Hash256> MainChain(long fromHeight, int count)
    {
        lock (_state.Gate)
        {
            var result = new List<Hash256>();
            for (var e = _state.Tip; e is not null && e.Height >= fromHeight; e = e.Parent)
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
        lock (_state.Gate)
        {
            return _state.Vm.ExportStateJson();
        }
    }

    /// <summary>
    /// Checks the store against itself: SQLite integrity, a contiguous best chain from genesis to the tip, a body file for
    /// every stored block, undo data for every best-chain block; deep also re-verifies every body and replays the best
    /// chain on a fresh VM, which must reach the tip's state root. Returns the problems found (empty when consistent).
    /// </summary>
    public IReadOnlyList<string> CheckConsistency(bool deep)
    {
        lock (_state.Gate)
        {
            return _loader.CheckConsistency(deep);
        }
    }

    /// <summary>Blocks the live VM has run since the chain was opened: templates, connected and refused blocks, reorganisations.</summary>
    public long VmBlockRuns
    {
        get
        {
            lock (_state.Gate)
            {
                return _state.Vm.BlocksRun;
            }
        }
    }

    public void Dispose() => _store.Dispose();

    private static ChainTip ToTip(ChainEntry e) =>
        new(e.Hash, e.Height, e.Work, e.Header.StateRoot, e.Header.TimestampMs, e.Header.DifficultyBits);
}
