namespace Testbed.Vm;

/// <summary>What one applied block changed, enough to undo it; persisted by the chain store for reorgs after restarts.</summary>
public sealed class BlockEffects
{
    private const uint Magic = 0x54425645; // "TBVE"
    private const byte Version = 1;

    internal BlockEffects(long height, StateRoot rootBefore, StateRoot rootAfter, EffectChange[] changes, MachineSnapshot? machineBefore, int actions, long steps)
    {
        Height = height;
        RootBefore = rootBefore;
        RootAfter = rootAfter;
        Changes = changes;
        MachineBefore = machineBefore;
        Actions = actions;
        Steps = steps;
    }

    /// <summary>Height of the block.</summary>
    public long Height { get; }

    /// <summary>State root before the block.</summary>
    public StateRoot RootBefore { get; }

    /// <summary>State root after the block.</summary>
    public StateRoot RootAfter { get; }

    /// <summary>Actions the block carried.</summary>
    public int Actions { get; }

    /// <summary>SUBLEQ steps the block ran.</summary>
    public long Steps { get; }

    /// <summary>Number of keys the block changed.</summary>
    public int ChangedKeys => Changes.Length;

    internal EffectChange[] Changes { get; }

    internal MachineSnapshot? MachineBefore { get; }

    /// <summary>Binary form: "TBVE", version, height, both roots, actions, steps, the machine before (if SUBLEQ ran), then each changed key with its prior entry.</summary>
    public byte[] Serialize()
    {
        var w = new BinaryWriterBE();
        w.U32(Magic);
        w.U8(Version);
        w.I64(Height);
        w.Raw(RootBefore.ToArray());
        w.Raw(RootAfter.ToArray());
        w.U32((uint)Actions);
        w.I64(Steps);
        if (MachineBefore is { } machine)
        {
            w.U8(1);
            machine.Write(w);
        }
        else
        {
            w.U8(0);
        }

        w.U32((uint)Changes.Length);
        foreach (var change in Changes)
        {
            w.String(change.Collection);
            w.String(change.Key);
            w.U8(change.Existed ? (byte)1 : (byte)0);
            if (change.Existed)
            {
                w.Entry(change.Previous);
            }
        }

        return w.ToArray();
    }

    /// <summary>Reads what <see cref="Serialize"/> wrote; throws InvalidDataException on anything malformed.</summary>
    public static BlockEffects Deserialize(ReadOnlySpan<byte> data)
    {
        var r = new BinaryReaderBE(data, "block effects");
        if (r.U32() != Magic)
        {
            throw new InvalidDataException("block effects: bad magic (not a Testbed.Vm effects record)");
        }

        var version = r.U8();
        if (version != Version)
        {
            throw new InvalidDataException($"block effects: unsupported version {version}");
        }

        var height = r.I64();
        var before = new StateRoot(r.Raw(32));
        var after = new StateRoot(r.Raw(32));
        var actions = (int)Math.Min(r.U32(), int.MaxValue);
        var steps = r.I64();
        MachineSnapshot? machine = r.U8() switch
        {
            0 => null,
            1 => MachineSnapshot.Read(ref r),
            var other => throw new InvalidDataException($"block effects: bad machine flag {other}"),
        };
        var changes = new EffectChange[r.Count(13)];
        for (var i = 0; i < changes.Length; i++)
        {
            var collection = r.String(256);
            var key = r.String(1 << 12);
            var existed = r.U8() switch
            {
                0 => false,
                1 => true,
                var other => throw new InvalidDataException($"block effects: bad existence flag {other}"),
            };
            changes[i] = new EffectChange(collection, key, existed, existed ? r.Entry() : default);
        }

        r.End();
        return new BlockEffects(height, before, after, changes, machine, actions, steps);
    }
}

/// <summary>One key a block changed and what it held before ("" collection names are never written).</summary>
internal readonly record struct EffectChange(string Collection, string Key, bool Existed, StateEntry Previous);

/// <summary>SUBLEQ memory and registers at one moment.</summary>
internal sealed record MachineSnapshot(long[] Memory, long A, long B, long C)
{
    public void Write(BinaryWriterBE w)
    {
        w.U32((uint)Memory.Length);
        foreach (var word in Memory)
        {
            w.I64(word);
        }

        w.I64(A);
        w.I64(B);
        w.I64(C);
    }

    public static MachineSnapshot Read(ref BinaryReaderBE r)
    {
        var memory = new long[r.Count(8)];
        if (memory.Length > VmOptions.MaxMemoryWords)
        {
            throw new InvalidDataException($"memory of {memory.Length} words exceeds the limit of {VmOptions.MaxMemoryWords}");
        }

        for (var i = 0; i < memory.Length; i++)
        {
            memory[i] = r.I64();
        }

        return new MachineSnapshot(memory, r.I64(), r.I64(), r.I64());
    }
}
