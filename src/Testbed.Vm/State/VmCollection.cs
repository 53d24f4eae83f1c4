using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

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

    private const int SummaryRecord = 4 + 4 + 32;

    private readonly VmState _state;
    private readonly Dictionary<string, StateEntry> _entries = new(StringComparer.Ordinal);
    private readonly byte[] _hash = new byte[32];
    private readonly List<int> _changed = [];
    private LeafBucket[] _buckets = [new LeafBucket()];
    private byte[] _summary = new byte[SummaryRecord];
    private int[] _summaryAt = new int[1];
    private int _summaryBytes;
    private bool _layoutDirty = true;
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
        ref var slot = ref Claim(key, entry, out var existed);
        Store(ref slot, key, entry, existed);
    }

    /// <summary>Stores an entry under a key that is absent (journalled), with one dictionary look-up; false, changing nothing, when the key is present.</summary>
    public bool TryAdd(string key, StateEntry entry)
    {
        ref var slot = ref Claim(key, entry, out var existed);
        if (existed)
        {
            return false;
        }

        Store(ref slot, key, entry, existed: false);
        return true;
    }

    /// <summary>Checks a write and finds (or adds) the key's slot.</summary>
    private ref StateEntry Claim(string key, in StateEntry entry, out bool existed)
    {
        ArgumentNullException.ThrowIfNull(entry.Value);
        ArgumentNullException.ThrowIfNull(entry.Owner);
        _state.CheckWritable();
        return ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, key, out existed);
    }

    /// <summary>Journals what the slot held, then stores the entry in it.</summary>
    private void Store(ref StateEntry slot, string key, in StateEntry entry, bool existed)
    {
        _state.Journal(new UndoRecord(this, key, existed, slot));
        slot = entry;
        Touch(key, entry, added: !existed);
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
        Touch(key, entry, added: !existed);
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

    /// <summary>SHA-256 over (bucket index u32, key count u32, bucket hash) of every non-empty bucket in index order; only changed buckets are rehashed.</summary>
    internal ReadOnlySpan<byte> ComputeHash()
    {
        if (!_dirty)
        {
            return _hash;
        }

        if (_layoutDirty)
        {
            // Some bucket became empty or non-empty (or all were replaced): lay the summary out again.
            _summaryBytes = 0;
            for (var i = 0; i < _buckets.Length; i++)
            {
                _summaryAt[i] = _buckets[i].Count == 0 ? -1 : _summaryBytes;
                _summaryBytes += _buckets[i].Count == 0 ? 0 : SummaryRecord;
                WriteSummary(i);
            }

            _layoutDirty = false;
        }
        else
        {
            // Same layout: only the records of the changed buckets are rewritten in place.
            foreach (var i in _changed)
            {
                WriteSummary(i);
            }
        }

        _changed.Clear();
        SHA256.HashData(_summary.AsSpan(0, _summaryBytes), _hash);
        _state.CountHashed(_summaryBytes);
        _dirty = false;
        return _hash;
    }

    /// <summary>Rehashes bucket <paramref name="index"/> if it changed and writes its summary record (an empty bucket has none).</summary>
    private void WriteSummary(int index)
    {
        var bucket = _buckets[index];
        if (bucket.Count == 0)
        {
            return;
        }

        if (bucket.Dirty)
        {
            var leaves = bucket.Leaves;
            SHA256.HashData(leaves, bucket.Hash);
            _state.CountHashed(leaves.Length);
            bucket.Dirty = false;
        }

        var span = _summary.AsSpan(_summaryAt[index], SummaryRecord);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)index);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], (uint)bucket.Count);
        bucket.Hash.CopyTo(span[8..]);
    }

    private void Touch(string key, in StateEntry entry, bool added)
    {
        _dirty = true;
        _state.MarkDirty();
        if (added && BucketsFor(_entries.Count) != _buckets.Length)
        {
            Rebucket();
            return;
        }

        var index = BucketOf(key, _buckets.Length);
        var bucket = _buckets[index];
        Changing(index, bucket);
        bucket.Put(key, entry);
        _layoutDirty |= bucket.Count == 1 && added;
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

        var index = BucketOf(key, _buckets.Length);
        var bucket = _buckets[index];
        Changing(index, bucket);
        bucket.Remove(key);
        _layoutDirty |= bucket.Count == 0;
    }

    /// <summary>Notes a bucket about to change, once until the next hash, so the summary rewrites only its record.</summary>
    private void Changing(int index, LeafBucket bucket)
    {
        if (!bucket.Dirty)
        {
            _changed.Add(index);
        }
    }

    /// <summary>Spreads every key over the bucket count its key count calls for (amortised: it happens when the count doubles or halves).</summary>
    private void Rebucket()
    {
        var buckets = new LeafBucket[BucketsFor(_entries.Count)];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = new LeafBucket();
        }

        foreach (var key in _entries.Keys)
        {
            buckets[BucketOf(key, buckets.Length)].AddKey(key);
        }

        foreach (var bucket in buckets)
        {
            bucket.Fill(_entries);
        }

        _buckets = buckets;
        _summary = new byte[buckets.Length * SummaryRecord];
        _summaryAt = new int[buckets.Length];
        _changed.Clear();
        _layoutDirty = true;
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
}
