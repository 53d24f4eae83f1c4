using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Testbed.Vm;

/// <summary>
/// One named map of the state (students, courses, proposals, nfts, ...). Every write is journalled so a failed
/// transaction or a reorganisation can undo it, and marks one of <see cref="BucketCount"/> hash buckets dirty so the
/// state root only rehashes what changed.
/// </summary>
public sealed class VmCollection
{
    /// <summary>Buckets per collection: keys are spread by FNV-1a of their UTF-16 code units.</summary>
    public const int BucketCount = 1024;

    private readonly VmState _state;
    private readonly Dictionary<string, StateEntry> _entries = new(StringComparer.Ordinal);
    private readonly Bucket?[] _buckets = new Bucket?[BucketCount];
    private readonly byte[] _hash = new byte[32];
    private bool _dirty = true;

    internal VmCollection(VmState state, string name, string? counterField)
    {
        _state = state;
        Name = name;
        CounterField = counterField;
    }

    /// <summary>The collection's name, as in the exported state.</summary>
    public string Name { get; }

    /// <summary>Name under which an entry's counter is exported (proposals: "votes"), null when the counter is unused.</summary>
    public string? CounterField { get; }

    /// <summary>Number of keys.</summary>
    public int Count => _entries.Count;

    /// <summary>Keys and entries, in no particular order.</summary>
    public IEnumerable<KeyValuePair<string, StateEntry>> Entries => _entries;

    /// <summary>Looks a key up.</summary>
    public bool TryGet(string key, out StateEntry entry) => _entries.TryGetValue(key, out entry);

    /// <summary>True when the key is present.</summary>
    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    /// <summary>Stores an entry under a key (journalled, so the enclosing transaction can be undone).</summary>
    public void Set(string key, StateEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry.Value);
        ArgumentNullException.ThrowIfNull(entry.Owner);
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, key, out var existed);
        _state.Journal(new UndoRecord(this, key, existed, slot));
        slot = entry;
        Touch(key, added: !existed);
    }

    /// <summary>Removes a key (journalled); false when it was absent.</summary>
    public bool Remove(string key)
    {
        if (!_entries.Remove(key, out var previous))
        {
            return false;
        }

        _state.Journal(new UndoRecord(this, key, true, previous));
        Untouch(key);
        return true;
    }

    internal void SetWithoutJournal(string key, StateEntry entry)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, key, out var existed);
        slot = entry;
        Touch(key, added: !existed);
    }

    internal void RemoveWithoutJournal(string key)
    {
        if (_entries.Remove(key))
        {
            Untouch(key);
        }
    }

    /// <summary>SHA-256 over (bucket index u16, key count u32, bucket hash) of every non-empty bucket in index order.</summary>
    internal ReadOnlySpan<byte> ComputeHash(RootScratch scratch)
    {
        if (!_dirty)
        {
            return _hash;
        }

        var summary = scratch.Summary;
        summary.Clear();
        for (var i = 0; i < BucketCount; i++)
        {
            var bucket = _buckets[i];
            if (bucket is null || bucket.Keys.Count == 0)
            {
                continue;
            }

            if (bucket.Dirty)
            {
                HashBucket(bucket, scratch.Leaves);
            }

            var span = summary.GetSpan(2 + 4 + 32);
            BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)i);
            BinaryPrimitives.WriteUInt32BigEndian(span[2..], (uint)bucket.Keys.Count);
            bucket.Hash.CopyTo(span[6..]);
            summary.Advance(2 + 4 + 32);
        }

        SHA256.HashData(summary.WrittenSpan, _hash);
        _dirty = false;
        return _hash;
    }

    /// <summary>SHA-256 over every key of the bucket in ordinal order: u32 key length, key UTF-8, value SHA-256, counter i64, u32 owner length, owner UTF-8 (integers big-endian).</summary>
    private void HashBucket(Bucket bucket, System.Buffers.ArrayBufferWriter<byte> leaves)
    {
        leaves.Clear();
        bucket.Keys.Sort(StringComparer.Ordinal);
        foreach (var key in bucket.Keys)
        {
            var entry = _entries[key];
            var keyBytes = Encoding.UTF8.GetByteCount(key);
            var ownerBytes = Encoding.UTF8.GetByteCount(entry.Owner);
            var span = leaves.GetSpan(4 + keyBytes + 32 + 8 + 4 + ownerBytes);
            BinaryPrimitives.WriteUInt32BigEndian(span, (uint)keyBytes);
            Encoding.UTF8.GetBytes(key, span[4..]);
            var at = 4 + keyBytes;
            entry.Value.Hash.CopyTo(span[at..]);
            at += 32;
            BinaryPrimitives.WriteInt64BigEndian(span[at..], entry.Counter);
            at += 8;
            BinaryPrimitives.WriteUInt32BigEndian(span[at..], (uint)ownerBytes);
            Encoding.UTF8.GetBytes(entry.Owner, span[(at + 4)..]);
            leaves.Advance(at + 4 + ownerBytes);
        }

        SHA256.HashData(leaves.WrittenSpan, bucket.Hash);
        bucket.Dirty = false;
    }

    private void Touch(string key, bool added)
    {
        var index = BucketOf(key);
        var bucket = _buckets[index] ??= new Bucket();
        if (added)
        {
            bucket.Keys.Add(key);
        }

        bucket.Dirty = true;
        _dirty = true;
        _state.MarkDirty();
    }

    private void Untouch(string key)
    {
        var bucket = _buckets[BucketOf(key)]!;
        bucket.Keys.Remove(key);
        bucket.Dirty = true;
        _dirty = true;
        _state.MarkDirty();
    }

    /// <summary>FNV-1a over UTF-16 code units: cheap, and the same on every platform (unlike string.GetHashCode).</summary>
    private static int BucketOf(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash & (BucketCount - 1));
    }

    private sealed class Bucket
    {
        public List<string> Keys { get; } = [];

        public byte[] Hash { get; } = new byte[32];

        public bool Dirty { get; set; } = true;
    }
}

/// <summary>Buffers reused across root computations so the root costs no allocation in steady state.</summary>
internal sealed class RootScratch
{
    public System.Buffers.ArrayBufferWriter<byte> Summary { get; } = new(VmCollection.BucketCount * 38);

    public System.Buffers.ArrayBufferWriter<byte> Leaves { get; } = new(4096);
}
