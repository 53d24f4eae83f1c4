using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Testbed.Vm;

/// <summary>
/// One named map of the state (students, courses, proposals, nfts, ...). Every write is journalled so a failed
/// transaction or a reorganisation can undo it. Keys are spread over hash buckets, the number of which follows
/// the key count (about <see cref="TargetBucketSize"/> keys per bucket, at most <see cref="MaxBuckets"/>), so the
/// state root rehashes only the buckets a block changed, with few hash calls per block.
/// </summary>
public sealed class VmCollection
{
    /// <summary>Keys per bucket the bucket count aims at: large enough that one hash call covers many keys.</summary>
    public const int TargetBucketSize = 32;

    /// <summary>Largest number of buckets (beyond TargetBucketSize * MaxBuckets keys, buckets grow instead).</summary>
    public const int MaxBuckets = 4096;

    private readonly VmState _state;
    private readonly Dictionary<string, StateEntry> _entries = new(StringComparer.Ordinal);
    private readonly byte[] _hash = new byte[32];
    private Bucket[] _buckets = [new Bucket()];
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
        _state.CheckWritable();
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, key, out var existed);
        _state.Journal(new UndoRecord(this, key, existed, slot));
        slot = entry;
        Touch(key, added: !existed);
    }

    /// <summary>Removes a key (journalled); false when it was absent.</summary>
    public bool Remove(string key)
    {
        _state.CheckWritable();
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

    /// <summary>Number of buckets for a key count: the smallest power of two giving at most TargetBucketSize keys each, capped at MaxBuckets.</summary>
    public static int BucketsFor(int count)
    {
        var buckets = 1;
        while (buckets < MaxBuckets && (long)buckets * TargetBucketSize < count)
        {
            buckets <<= 1;
        }

        return buckets;
    }

    /// <summary>SHA-256 over (bucket index u32, key count u32, bucket hash) of every non-empty bucket in index order.</summary>
    internal ReadOnlySpan<byte> ComputeHash(RootScratch scratch)
    {
        if (!_dirty)
        {
            return _hash;
        }

        var summary = scratch.Summary;
        summary.Clear();
        for (var i = 0; i < _buckets.Length; i++)
        {
            var bucket = _buckets[i];
            if (bucket.Keys.Count == 0)
            {
                continue;
            }

            if (bucket.Dirty)
            {
                HashBucket(bucket, scratch.Leaves);
            }

            var span = summary.GetSpan(4 + 4 + 32);
            BinaryPrimitives.WriteUInt32BigEndian(span, (uint)i);
            BinaryPrimitives.WriteUInt32BigEndian(span[4..], (uint)bucket.Keys.Count);
            bucket.Hash.CopyTo(span[8..]);
            summary.Advance(4 + 4 + 32);
        }

        SHA256.HashData(summary.WrittenSpan, _hash);
        _dirty = false;
        return _hash;
    }

    /// <summary>SHA-256 over every key of the bucket in ordinal order: u32 key length, key UTF-8, value SHA-256, counter i64, u32 owner length, owner UTF-8 (integers big-endian).</summary>
    private void HashBucket(Bucket bucket, System.Buffers.ArrayBufferWriter<byte> leaves)
    {
        leaves.Clear();
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
        _dirty = true;
        _state.MarkDirty();
        if (added && BucketsFor(_entries.Count) != _buckets.Length)
        {
            Rebucket();
            return;
        }

        var bucket = _buckets[BucketOf(key, _buckets.Length)];
        if (added)
        {
            // Buckets stay sorted, so hashing one never sorts.
            var at = bucket.Keys.BinarySearch(key, StringComparer.Ordinal);
            bucket.Keys.Insert(~at, key);
        }

        bucket.Dirty = true;
    }

    private void Untouch(string key)
    {
        _dirty = true;
        _state.MarkDirty();
        if (BucketsFor(_entries.Count) != _buckets.Length)
        {
            Rebucket();
            return;
        }

        var bucket = _buckets[BucketOf(key, _buckets.Length)];
        bucket.Keys.RemoveAt(bucket.Keys.BinarySearch(key, StringComparer.Ordinal));
        bucket.Dirty = true;
    }

    /// <summary>Spreads every key over the bucket count its key count calls for (amortised: it happens when the count doubles or halves).</summary>
    private void Rebucket()
    {
        var buckets = new Bucket[BucketsFor(_entries.Count)];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = new Bucket();
        }

        foreach (var key in _entries.Keys)
        {
            buckets[BucketOf(key, buckets.Length)].Keys.Add(key);
        }

        foreach (var bucket in buckets)
        {
            bucket.Keys.Sort(StringComparer.Ordinal);
        }

        _buckets = buckets;
    }

    /// <summary>FNV-1a (32-bit) over UTF-16 code units, masked to the bucket count: cheap, and the same on every platform (unlike string.GetHashCode).</summary>
    private static int BucketOf(string key, int buckets)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash & (uint)(buckets - 1));
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
    public System.Buffers.ArrayBufferWriter<byte> Summary { get; } = new(VmCollection.MaxBuckets * 40);

    public System.Buffers.ArrayBufferWriter<byte> Leaves { get; } = new(4096);
}
