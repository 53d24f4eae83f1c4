namespace Testbed.Vm;

/// <summary>
/// A block the VM ran and undid (<see cref="OiscMachine.Prepare"/>, a miner's template): its undo data and the value each
/// changed key had after it, so the block can be applied again (<see cref="OiscMachine.Redo"/>) without running it.
/// </summary>
public sealed class PreparedBlock
{
    private readonly KeyWrite[] _changes;
    private readonly MachineSnapshot? _machineAfter;

    private PreparedBlock(BlockEffects effects, KeyWrite[] changes, MachineSnapshot? machineAfter)
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
        var changes = new List<KeyWrite>(effects.Changes.Length);
        foreach (var change in effects.Changes)
        {
            if (!seen.Add((change.Collection, change.Key)))
            {
                continue;
            }

            var collection = state.GetOrCreate(change.Collection);
            var exists = collection.TryGet(change.Key, out var after);
            changes.Add(new KeyWrite(change.Collection, collection.CounterField, change.Key, exists, after));
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
        var root = state.WriteAll(_changes, _machineAfter, Effects.RootAfter);
        if (root != Effects.RootAfter)
        {
            throw new InvalidOperationException($"redoing block {Effects.Height} gives root {root}, not {Effects.RootAfter}; nothing was changed");
        }
    }
}
