using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Testbed.Vm;

/// <summary>
/// The VM's whole state: named collections, SUBLEQ word memory and registers A, B, C. Writes go through a journal
/// so a transaction or block can be undone exactly; the root is recomputed only over what changed.
/// </summary>
public sealed class VmState
{
    /// <summary>Collection of registered students (the seed's vm.state['students']).</summary>
    public const string StudentsName = "students";

    /// <summary>Collection of courses.</summary>
    public const string CoursesName = "courses";

    /// <summary>Collection of proposals, each with its vote counter.</summary>
    public const string ProposalsName = "proposals";

    /// <summary>Collection of NFTs, each with its owner in native mode.</summary>
    public const string NftsName = "nfts";

    /// <summary>Native mode only: one key "wallet:proposal" per vote cast, so a wallet votes once per proposal.</summary>
    public const string BallotsName = "ballots";

    private static readonly byte[] Domain = "testbed-vm-state-v1"u8.ToArray();

    private readonly SortedDictionary<string, VmCollection> _collections = new(StringComparer.Ordinal);
    private readonly List<UndoRecord> _journal = [];
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private StateRoot _root;
    private bool _dirty = true;

    internal VmState(int memoryWords)
    {
        Memory = new long[memoryWords];
        Students = GetOrCreate(StudentsName);
        Courses = GetOrCreate(CoursesName);
        Proposals = GetOrCreate(ProposalsName, "votes");
        Nfts = GetOrCreate(NftsName);
        Ballots = GetOrCreate(BallotsName);
    }

    /// <summary>Students by id.</summary>
    public VmCollection Students { get; }

    /// <summary>Courses by id.</summary>
    public VmCollection Courses { get; }

    /// <summary>Proposals by id; the counter is the vote count.</summary>
    public VmCollection Proposals { get; }

    /// <summary>NFTs by id; the owner is the minting (or receiving) wallet in native mode.</summary>
    public VmCollection Nfts { get; }

    /// <summary>Native-mode ballots, keyed "wallet:proposal".</summary>
    public VmCollection Ballots { get; }

    /// <summary>Every collection, by ordinal name order.</summary>
    public IEnumerable<VmCollection> Collections => _collections.Values;

    /// <summary>SUBLEQ word memory (read-only view; programs change it through the subleq action).</summary>
    public ReadOnlySpan<long> MemoryWords => Memory;

    /// <summary>Register A: the a operand of the last SUBLEQ instruction executed.</summary>
    public long RegisterA { get; internal set; }

    /// <summary>Register B: the b operand of the last SUBLEQ instruction executed.</summary>
    public long RegisterB { get; internal set; }

    /// <summary>Register C: the program counter after the last SUBLEQ instruction (negative after a halt).</summary>
    public long RegisterC { get; internal set; }

    internal long[] Memory { get; }

    internal int JournalLength => _journal.Count;

    /// <summary>Returns the named collection, creating it empty (an empty collection does not enter the root). For operations added to the registry.</summary>
    public VmCollection GetOrCreate(string name, string? counterField = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_collections.TryGetValue(name, out var collection))
        {
            collection = new VmCollection(this, name, counterField);
            _collections.Add(name, collection);
        }

        return collection;
    }

    /// <summary>True only while the machine runs a transaction or a revert: outside them the state is read-only.</summary>
    internal bool Writable { get; set; }

    internal void CheckWritable()
    {
        if (!Writable)
        {
            throw new InvalidOperationException("the VM state changes only through ApplyBlock and Revert");
        }
    }

    internal void Journal(in UndoRecord record) => _journal.Add(record);

    internal void MarkDirty() => _dirty = true;

    /// <summary>Bytes fed to SHA-256 by state-root computations so far (bucket leaves, bucket summaries, the machine head, the root input): the hashing work the root definition asks of the writes made.</summary>
    public long RootHashedBytes { get; private set; }

    internal void CountHashed(int bytes) => RootHashedBytes += bytes;

    /// <summary>Undoes journalled writes back to <paramref name="mark"/>, newest first, and forgets them.</summary>
    internal void UndoTo(int mark)
    {
        for (var i = _journal.Count - 1; i >= mark; i--)
        {
            Restore(_journal[i]);
        }

        _journal.RemoveRange(mark, _journal.Count - mark);
    }

    /// <summary>The journal since <paramref name="mark"/>, oldest first, then clears it. Undoing it newest first restores the state before the mark.</summary>
    internal UndoRecord[] TakeJournal(int mark)
    {
        var records = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_journal)[mark..].ToArray();
        _journal.RemoveRange(mark, _journal.Count - mark);
        return records;
    }

    /// <summary>
    /// Writes <paramref name="writes"/> in order, then <paramref name="machine"/> if given, as one journalled step that is
    /// kept only when it leads to <paramref name="expected"/>; otherwise all of it is undone, the machine included. Returns
    /// the root the writes led to (a revert and a redo each name their own error when it is not the expected one).
    /// </summary>
    internal StateRoot WriteAll(IEnumerable<KeyWrite> writes, MachineSnapshot? machine, StateRoot expected)
    {
        var mark = JournalLength;
        var machineNow = machine is null ? null : new MachineSnapshot((long[])Memory.Clone(), RegisterA, RegisterB, RegisterC);
        Writable = true;
        try
        {
            foreach (var write in writes)
            {
                var collection = GetOrCreate(write.Collection, write.CounterField);
                if (write.Exists)
                {
                    collection.Set(write.Key, write.Value);
                }
                else
                {
                    collection.Remove(write.Key);
                }
            }
        }
        finally
        {
            Writable = false;
        }

        if (machine is not null)
        {
            SetMachine(machine.Memory, machine.A, machine.B, machine.C);
        }

        var reached = ComputeRoot();
        if (reached == expected)
        {
            TakeJournal(mark);
            return reached;
        }

        UndoTo(mark);
        if (machineNow is not null)
        {
            SetMachine(machineNow.Memory, machineNow.A, machineNow.B, machineNow.C);
        }

        return reached;
    }

    internal static void Restore(in UndoRecord record)
    {
        if (record.Existed)
        {
            record.Collection.SetWithoutJournal(record.Key, record.Previous);
        }
        else
        {
            record.Collection.RemoveWithoutJournal(record.Key);
        }
    }

    internal void SetMachine(ReadOnlySpan<long> memory, long a, long b, long c)
    {
        memory.CopyTo(Memory);
        RegisterA = a;
        RegisterB = b;
        RegisterC = c;
        _dirty = true;
    }

    /// <summary>
    /// SHA-256 of: "testbed-vm-state-v1", memory word count (u32), every memory word (i64), registers A, B, C (i64),
    /// then for each non-empty collection in ordinal name order: name length (u32), name UTF-8, key count (u32),
    /// collection hash. All integers big-endian.
    /// </summary>
    internal StateRoot ComputeRoot()
    {
        if (!_dirty)
        {
            return _root;
        }

        var buffer = _buffer;
        buffer.ResetWrittenCount();
        buffer.Write(Domain);
        var span = buffer.GetSpan(4 + (Memory.Length * 8) + 24);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)Memory.Length);
        var at = 4;
        foreach (var word in Memory)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[at..], word);
            at += 8;
        }

        BinaryPrimitives.WriteInt64BigEndian(span[at..], RegisterA);
        BinaryPrimitives.WriteInt64BigEndian(span[(at + 8)..], RegisterB);
        BinaryPrimitives.WriteInt64BigEndian(span[(at + 16)..], RegisterC);
        buffer.Advance(at + 24);
        Span<byte> head = stackalloc byte[32];
        SHA256.HashData(buffer.WrittenSpan, head);
        CountHashed(buffer.WrittenCount);

        buffer.ResetWrittenCount();
        buffer.Write(head);
        foreach (var collection in _collections.Values)
        {
            if (collection.Count == 0)
            {
                continue;
            }

            var nameBytes = Encoding.UTF8.GetByteCount(collection.Name);
            var part = buffer.GetSpan(4 + nameBytes + 4 + 32);
            BinaryPrimitives.WriteUInt32BigEndian(part, (uint)nameBytes);
            Encoding.UTF8.GetBytes(collection.Name, part[4..]);
            BinaryPrimitives.WriteUInt32BigEndian(part[(4 + nameBytes)..], (uint)collection.Count);
            collection.ComputeHash().CopyTo(part[(8 + nameBytes)..]);
            buffer.Advance(4 + nameBytes + 4 + 32);
        }

        CountHashed(buffer.WrittenCount);
        _root = new StateRoot(SHA256.HashData(buffer.WrittenSpan));
        _dirty = false;
        return _root;
    }
}
