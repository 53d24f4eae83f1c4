using System.Diagnostics;

namespace Testbed.Vm;

/// <summary>
/// The OISC virtual machine of one peer: registered operations over a deterministic state, a SUBLEQ core over word
/// memory and registers A, B, C, atomic blocks with exact undo, and a state root. Public methods take one lock, so a
/// mempool may validate while blocks are applied; the live <see cref="State"/> view is for the owning thread only.
/// </summary>
public sealed class OiscMachine
{
    private const uint StateMagic = 0x54425653; // "TBVS"
    private const byte StateVersion = 1;

    private readonly Lock _gate = new();
    private readonly VmState _state;
    private readonly VmExecutionContext _context;
    private readonly OperationRegistry _registry;
    private readonly long[] _txMemory;
    private (long A, long B, long C) _txRegisters;
    private bool _txSnapshotTaken;
    private bool _inBlock;
    private MachineSnapshot? _blockSnapshot;
    private long _blocksRun;

    /// <summary>Creates an empty machine with the built-in operations of <paramref name="mode"/>.</summary>
    public OiscMachine(VmMode mode, VmOptions? options = null)
        : this(mode, options, null)
    {
    }

    /// <summary>Creates an empty machine with the given operations (null: the built-in ones).</summary>
    public OiscMachine(VmMode mode, VmOptions? options, OperationRegistry? registry)
    {
        Options = options ?? new VmOptions();
        Options.Check();
        Mode = mode;
        _registry = registry ?? OperationRegistry.CreateDefault(mode);
        _state = new VmState(Options.MemoryWords);
        _txMemory = new long[Options.MemoryWords];
        _context = new VmExecutionContext(_state, mode) { SnapshotMachine = SnapshotMachine };
    }

    /// <summary>Rule set.</summary>
    public VmMode Mode { get; }

    /// <summary>Limits.</summary>
    public VmOptions Options { get; }

    /// <summary>The live state (read it; change it only through blocks).</summary>
    public VmState State => _state;

    /// <summary>Blocks this machine has run (applied, prepared or refused; one per `vm.replay` span); a redone block does not run.</summary>
    public long BlocksRun => Interlocked.Read(ref _blocksRun);

    /// <summary>Operations by action name.</summary>
    public OperationRegistry Operations => _registry;

    /// <summary>Root of the current state (recomputed over changed buckets only).</summary>
    public StateRoot StateRoot
    {
        get
        {
            lock (_gate)
            {
                return _state.ComputeRoot();
            }
        }
    }

    /// <summary>Adds or replaces an operation, as the seed's register_operation does. Every peer must register the same ones.</summary>
    public void RegisterOperation(string actionName, IVmOperation operation)
    {
        lock (_gate)
        {
            _registry.Register(actionName, operation);
        }
    }

    /// <summary>Parses and validates a transaction's contract into actions (no state is read); throws <see cref="VmRejectedException"/>.</summary>
    public DecodedTransaction Decode(VmTransaction transaction)
    {
        lock (_gate)
        {
            try
            {
                return ContractDecoder.Decode(transaction, Mode, Options, _registry);
            }
            catch (VmRejectedException e)
            {
                throw e.At(0, -1);
            }
        }
    }

    /// <summary>Dry run of one transaction against the current state, for the mempool; throws <see cref="VmRejectedException"/>; changes nothing.</summary>
    public void Validate(VmTransaction transaction) => Validate(Decode(transaction));

    /// <summary>Dry run of a decoded transaction; changes nothing.</summary>
    public void Validate(DecodedTransaction transaction)
    {
        lock (_gate)
        {
            ArgumentNullException.ThrowIfNull(transaction);
            if (_inBlock)
            {
                throw new InvalidOperationException("cannot validate while a block is being applied");
            }

            var mark = _state.JournalLength;
            try
            {
                RunTransaction(transaction, 0, Options.GasPerBlock);
            }
            finally
            {
                _state.UndoTo(mark);
                RestoreTransactionMachine();
            }
        }
    }

    /// <summary>
    /// Applies a block atomically: on any failure throws <see cref="VmRejectedException"/> and the state is exactly as
    /// before. Emits the `vm.replay` span.
    /// </summary>
    public BlockEffects ApplyBlock(long height, IReadOnlyList<VmTransaction> transactions)
    {
        lock (_gate)
        {
            ArgumentNullException.ThrowIfNull(transactions);

            // One span covers decoding and replay.
            using var activity = StartReplay(height);
            var decoded = new DecodedTransaction[transactions.Count];
            for (var i = 0; i < decoded.Length; i++)
            {
                try
                {
                    decoded[i] = ContractDecoder.Decode(transactions[i], Mode, Options, _registry);
                }
                catch (VmRejectedException e)
                {
                    var rejected = e.At(i, -1);
                    Fail(activity, rejected, 0);
                    throw rejected;
                }
            }

            return Replay(height, decoded, activity);
        }
    }

    /// <summary>Applies a block of already decoded transactions (the hot path: no parsing, no allocation per action).</summary>
    public BlockEffects ApplyDecodedBlock(long height, IReadOnlyList<DecodedTransaction> transactions)
    {
        lock (_gate)
        {
            ArgumentNullException.ThrowIfNull(transactions);
            using var activity = StartReplay(height);
            return Replay(height, transactions, activity);
        }
    }

    private BlockEffects Replay(long height, IReadOnlyList<DecodedTransaction> transactions, Activity? activity)
    {
        var rootBefore = StateRoot;
        var mark = _state.JournalLength;
        var actions = 0;
        _context.Steps = 0;
        _blockSnapshot = null;
        _inBlock = true;
        try
        {
            var blockGas = Options.GasPerBlock;
            for (var i = 0; i < transactions.Count; i++)
            {
                blockGas -= RunTransaction(transactions[i], i, blockGas);
                actions += transactions[i].ActionArray.Length;
            }
        }
        catch (Exception e)
        {
            _state.UndoTo(mark);
            if (_blockSnapshot is { } machine)
            {
                _state.SetMachine(machine.Memory, machine.A, machine.B, machine.C);
            }

            Fail(activity, e, actions);
            throw;
        }
        finally
        {
            _inBlock = false;
        }

        var rootAfter = StateRoot;
        var changes = Array.ConvertAll(_state.TakeJournal(mark), r => new EffectChange(r.Collection.Name, r.Key, r.Existed, r.Previous));
        var effects = new BlockEffects(height, rootBefore, rootAfter, changes, _blockSnapshot, actions, _context.Steps);
        _blockSnapshot = null;
        if (activity is not null)
        {
            activity.SetTag("vm.actions", actions);
            activity.SetTag("vm.steps", _context.Steps);
            activity.SetTag("vm.state_root", rootAfter.ToString());
        }

        return effects;
    }

    /// <summary>Exact undo of the most recently applied block (LIFO): the state returns to <see cref="BlockEffects.RootBefore"/>.</summary>
    public void Revert(BlockEffects effects)
    {
        lock (_gate)
        {
            ArgumentNullException.ThrowIfNull(effects);
            var current = StateRoot;
            if (current != effects.RootAfter)
            {
                throw new InvalidOperationException(
                    $"cannot revert block {effects.Height}: the state root is {current}, but the block left {effects.RootAfter} (revert blocks newest first)");
            }

            if (effects.MachineBefore is { } machine && machine.Memory.Length != _state.Memory.Length)
            {
                throw new InvalidOperationException($"block {effects.Height} effects hold {machine.Memory.Length} memory words, this machine has {_state.Memory.Length}");
            }

            // The undo itself is journalled, so effects that do not lead back to RootBefore leave the state untouched.
            var undo = Enumerable.Reverse(effects.Changes).Select(c =>
                new KeyWrite(c.Collection, c.Collection == VmState.ProposalsName ? "votes" : null, c.Key, c.Existed, c.Previous));
            var reverted = _state.WriteAll(undo, effects.MachineBefore, effects.RootBefore);
            if (reverted != effects.RootBefore)
            {
                throw new InvalidOperationException($"reverting block {effects.Height} would give root {reverted}, not {effects.RootBefore}: the effects record is corrupt; nothing was changed");
            }
        }
    }

    /// <summary>
    /// Runs a block and undoes it at once (a miner's template), keeping the state it led to, so that <see cref="Redo"/>
    /// applies it later without running it again. Throws <see cref="VmRejectedException"/> like <see cref="ApplyBlock"/>.
    /// </summary>
    public PreparedBlock Prepare(long height, IReadOnlyList<VmTransaction> transactions)
    {
        lock (_gate)
        {
            var effects = ApplyBlock(height, transactions);
            var prepared = PreparedBlock.Capture(_state, effects);
            Revert(effects);
            return prepared;
        }
    }

    /// <summary>
    /// Applies a prepared block without running it; the state must be the one it was prepared on (otherwise
    /// InvalidOperationException, nothing changed). Returns the block's undo data, as <see cref="ApplyBlock"/> would.
    /// </summary>
    public BlockEffects Redo(PreparedBlock prepared)
    {
        lock (_gate)
        {
            ArgumentNullException.ThrowIfNull(prepared);
            var current = _state.ComputeRoot();
            if (current != prepared.Effects.RootBefore)
            {
                throw new InvalidOperationException($"cannot redo block {prepared.Effects.Height}: the state root is {current}, but it was prepared on {prepared.Effects.RootBefore}");
            }

            prepared.Redo(_state);
            return prepared.Effects;
        }
    }

    /// <summary>Binary snapshot of the whole state: "TBVS", version, memory, registers, then every collection and entry in ordinal order.</summary>
    public byte[] SaveState()
    {
        lock (_gate)
        {
            var w = new BinaryWriterBE();
            w.U32(StateMagic);
            w.U8(StateVersion);
            new MachineSnapshot(_state.Memory, _state.RegisterA, _state.RegisterB, _state.RegisterC).Write(w);
            var collections = _state.Collections.Where(c => c.Count > 0).ToList();
            w.U32((uint)collections.Count);
            foreach (var collection in collections)
            {
                w.String(collection.Name);
                w.String(collection.CounterField ?? "");
                w.U32((uint)collection.Count);
                foreach (var (key, entry) in collection.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
                {
                    w.String(key);
                    w.Entry(entry);
                }
            }

            return w.ToArray();
        }
    }

    /// <summary>Restores a machine from <see cref="SaveState"/> output; throws InvalidDataException on anything malformed.</summary>
    public static OiscMachine LoadState(ReadOnlySpan<byte> data, VmMode mode, VmOptions? options = null)
    {
        var machine = new OiscMachine(mode, options);
        var r = new BinaryReaderBE(data, "VM state");
        if (r.U32() != StateMagic)
        {
            throw new InvalidDataException("VM state: bad magic (not a Testbed.Vm state file)");
        }

        var version = r.U8();
        if (version != StateVersion)
        {
            throw new InvalidDataException($"VM state: unsupported version {version}");
        }

        var snapshot = MachineSnapshot.Read(ref r);
        if (snapshot.Memory.Length != machine.Options.MemoryWords)
        {
            throw new InvalidDataException($"VM state: {snapshot.Memory.Length} memory words, but the machine is configured for {machine.Options.MemoryWords}");
        }

        machine._state.SetMachine(snapshot.Memory, snapshot.A, snapshot.B, snapshot.C);
        var collections = r.Count(12);
        for (var i = 0; i < collections; i++)
        {
            var name = r.String(256);
            var counterField = r.String(256);
            if (name.Length == 0)
            {
                throw new InvalidDataException("VM state: a collection has an empty name");
            }

            var collection = machine._state.GetOrCreate(name, counterField.Length == 0 ? null : counterField);
            var entries = r.Count(20);
            for (var j = 0; j < entries; j++)
            {
                var key = r.String(1 << 12);
                collection.SetWithoutJournal(key, r.Entry());
            }
        }

        r.End();
        return machine;
    }

    /// <summary>The state as the seed's vm.state: {"students":{..},"courses":{..},"proposals":{..},"nfts":{..}} (plus any other non-empty collection), keys sorted; a proposal carries "votes", an owned entry "owner".</summary>
    public string ExportStateJson()
    {
        lock (_gate)
        {
            return StateJsonExport.Write(_state);
        }
    }

    /// <summary>Runs one transaction atomically within the block's remaining gas; returns the gas it used.</summary>
    private long RunTransaction(DecodedTransaction transaction, int index, long blockGasRemaining)
    {
        if (transaction.Mode != Mode || transaction.MemoryWords != Options.MemoryWords)
        {
            throw new ArgumentException(
                $"transaction {index} was decoded for {transaction.Mode} mode with {transaction.MemoryWords} memory words; this machine is {Mode} with {Options.MemoryWords}");
        }

        var mark = _state.JournalLength;
        _txSnapshotTaken = false;
        _context.Sender = transaction.Sender;
        var budget = Math.Min(Options.GasPerTransaction, blockGasRemaining);
        _context.GasRemaining = budget;
        var actions = transaction.ActionArray;
        for (var j = 0; j < actions.Length; j++)
        {
            try
            {
                _context.ChargeGas(1);
                _state.Writable = true;
                actions[j].Execute(_context);
            }
            catch (VmRejectedException e)
            {
                _state.UndoTo(mark);
                RestoreTransactionMachine();
                if (_context.GasRemaining == 0 && budget < Options.GasPerTransaction)
                {
                    e = new VmRejectedException(e.TransactionIndex, e.ActionIndex, $"{e.Reason}; the block's gas budget of {Options.GasPerBlock} steps is used up");
                }

                throw e.At(index, j);
            }
            finally
            {
                _state.Writable = false;
            }
        }

        return budget - _context.GasRemaining;
    }

    private void SnapshotMachine()
    {
        if (_txSnapshotTaken)
        {
            return;
        }

        _state.Memory.CopyTo(_txMemory, 0);
        _txRegisters = (_state.RegisterA, _state.RegisterB, _state.RegisterC);
        _txSnapshotTaken = true;
        if (_inBlock && _blockSnapshot is null)
        {
            _blockSnapshot = new MachineSnapshot((long[])_txMemory.Clone(), _txRegisters.A, _txRegisters.B, _txRegisters.C);
        }
    }

    private void RestoreTransactionMachine()
    {
        if (_txSnapshotTaken)
        {
            _state.SetMachine(_txMemory, _txRegisters.A, _txRegisters.B, _txRegisters.C);
            _txSnapshotTaken = false;
        }
    }

    private Activity? StartReplay(long height)
    {
        Interlocked.Increment(ref _blocksRun);
        var activity = VmTelemetry.Source.StartActivity(VmTelemetry.ReplaySpan);
        if (activity is not null)
        {
            activity.SetTag("testbed.peer", Options.PeerName);
            activity.SetTag("block.height", height);
        }

        return activity;
    }

    private void Fail(Activity? activity, Exception error, int actions)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("vm.actions", actions);
        activity.SetTag("vm.steps", _context.Steps);
        activity.SetTag("vm.state_root", StateRoot.ToString());
        activity.SetStatus(ActivityStatusCode.Error, error.Message);
    }
}
