namespace Testbed.Vm;

/// <summary>
/// A block the VM ran and undid (<see cref="OiscMachine.Prepare"/>, a miner's template): its undo data and the value each
/// changed key had after it, so the block can be applied again (<see cref="OiscMachine.Redo"/>) without running it.
/// </summary>
public sealed class PreparedBlock
{
    private readonly RedoChange[] _changes;
    private readonly MachineSnapshot? _machineAfter;

    private PreparedBlock(BlockEffects effects, RedoChange[] changes, MachineSnapshot? machineAfter)
    {
        Effects = effects;
        _changes = changes;
        _machineAfter = machineAfter;
    }

    /// <summary>The block's undo data, with the state roots before and after it.</summary>
    public BlockEffects Effects { get; }

    /// <summary>Reads what a block just applied left in each key it changed; the caller holds the machine's lock.</summary>
    internal static PreparedBlock Capture(VmState state, BlockEffects effects)
    {
        var seen = new HashSet<(string, string)>();
        var changes = new List<RedoChange>(effects.Changes.Length);
        foreach (var change in effects.Changes)
        {
            if (!seen.Add((change.Collection, change.Key)))
            {
                continue;
            }

            var collection = state.GetOrCreate(change.Collection);
            var exists = collection.TryGet(change.Key, out var after);
            changes.Add(new RedoChange(change.Collection, collection.CounterField, change.Key, exists, after));
        }

        // The machine is only part of the block's effects when SUBLEQ ran (then it was snapshotted before).
        var machine = effects.MachineBefore is null
            ? null
            : new MachineSnapshot((long[])state.Memory.Clone(), state.RegisterA, state.RegisterB, state.RegisterC);
        return new PreparedBlock(effects, [.. changes], machine);
    }

    /// <summary>Writes the captured values; journalled, so a result other than <see cref="BlockEffects.RootAfter"/> is undone and thrown.</summary>
    internal void Redo(VmState state)
    {
        var mark = state.JournalLength;
        var machineNow = _machineAfter is null ? null : new MachineSnapshot((long[])state.Memory.Clone(), state.RegisterA, state.RegisterB, state.RegisterC);
        state.Writable = true;
        try
        {
            foreach (var change in _changes)
            {
                var collection = state.GetOrCreate(change.Collection, change.CounterField);
                if (change.Exists)
                {
                    collection.Set(change.Key, change.After);
                }
                else
                {
                    collection.Remove(change.Key);
                }
            }
        }
        finally
        {
            state.Writable = false;
        }

        if (_machineAfter is { } after)
        {
            state.SetMachine(after.Memory, after.A, after.B, after.C);
        }

        var root = state.ComputeRoot();
        if (root == Effects.RootAfter)
        {
            state.TakeJournal(mark);
            return;
        }

        state.UndoTo(mark);
        if (machineNow is not null)
        {
            state.SetMachine(machineNow.Memory, machineNow.A, machineNow.B, machineNow.C);
        }

        throw new InvalidOperationException($"redoing block {Effects.Height} gives root {root}, not {Effects.RootAfter}; nothing was changed");
    }

    /// <summary>One key a prepared block changed and what it held after the block.</summary>
    private readonly record struct RedoChange(string Collection, string? CounterField, string Key, bool Exists, StateEntry After);
}
