using System.Buffers.Binary;
using System.Text;

namespace Testbed.Vm;

/// <summary>
/// One bucket of a collection: its keys in ordinal order and, laid end to end in that order, each key's leaf bytes as
/// the state root hashes them (u32 key length, key UTF-8, value SHA-256, i64 counter, u32 owner length, owner UTF-8).
/// A write splices one leaf in place, so rehashing a changed bucket is one SHA-256 call over bytes already there:
/// no dictionary look-ups, no re-encoding of the keys the block did not touch.
/// </summary>
internal sealed class LeafBucket
{
    private string[] _keys = new string[4];
    private int[] _lengths = new int[4];
    private byte[] _leaves = new byte[256];
    private int _count;
    private int _bytes;

    /// <summary>Number of keys.</summary>
    public int Count => _count;

    /// <summary>The leaves of every key, in ordinal key order: the input of the bucket hash.</summary>
    public ReadOnlySpan<byte> Leaves => _leaves.AsSpan(0, _bytes);

    /// <summary>SHA-256 of <see cref="Leaves"/>, valid while <see cref="Dirty"/> is false.</summary>
    public byte[] Hash { get; } = new byte[32];

    /// <summary>True when the leaves changed since <see cref="Hash"/> was computed.</summary>
    public bool Dirty { get; set; } = true;

    /// <summary>Inserts the key's leaf at its ordinal place, or replaces it when the key is present.</summary>
    public void Put(string key, in StateEntry entry)
    {
        var index = Find(key);
        var oldLength = 0;
        if (index < 0)
        {
            index = ~index;
            InsertSlot(index, key);
        }
        else
        {
            oldLength = _lengths[index];
        }

        var keyBytes = Encoding.UTF8.GetByteCount(key);
        var ownerBytes = Encoding.UTF8.GetByteCount(entry.Owner);
        var length = 4 + keyBytes + 32 + 8 + 4 + ownerBytes;
        var offset = OffsetOf(index);
        Splice(offset, oldLength, length);
        WriteLeaf(_leaves.AsSpan(offset, length), key, keyBytes, entry, ownerBytes);
        _lengths[index] = length;
        Dirty = true;
    }

    /// <summary>Removes the key's leaf; the key must be present.</summary>
    public void Remove(string key)
    {
        var index = Find(key);
        if (index < 0)
        {
            throw new InvalidOperationException($"key '{key}' is not in its bucket");
        }

        Splice(OffsetOf(index), _lengths[index], 0);
        Array.Copy(_keys, index + 1, _keys, index, _count - index - 1);
        Array.Copy(_lengths, index + 1, _lengths, index, _count - index - 1);
        _count--;
        _keys[_count] = null!;
        Dirty = true;
    }

    /// <summary>Adds a key without its leaf (rebucketing); <see cref="Fill"/> sorts the keys and writes the leaves.</summary>
    public void AddKey(string key) => InsertSlot(_count, key);

    /// <summary>Sorts the keys added by <see cref="AddKey"/> and writes every leaf from <paramref name="entries"/>.</summary>
    public void Fill(Dictionary<string, StateEntry> entries)
    {
        Array.Sort(_keys, 0, _count, StringComparer.Ordinal);
        _bytes = 0;
        for (var i = 0; i < _count; i++)
        {
            var key = _keys[i];
            var entry = entries[key];
            var keyBytes = Encoding.UTF8.GetByteCount(key);
            var ownerBytes = Encoding.UTF8.GetByteCount(entry.Owner);
            var length = 4 + keyBytes + 32 + 8 + 4 + ownerBytes;
            Splice(_bytes, 0, length);
            WriteLeaf(_leaves.AsSpan(_bytes - length, length), key, keyBytes, entry, ownerBytes);
            _lengths[i] = length;
        }

        Dirty = true;
    }

    /// <summary>Binary search by ordinal order: the index of the key, or the complement of where it would go.</summary>
    private int Find(string key)
    {
        var low = 0;
        var high = _count - 1;
        while (low <= high)
        {
            var middle = (int)((uint)(low + high) >> 1);
            var order = string.CompareOrdinal(_keys[middle], key);
            if (order == 0)
            {
                return middle;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return ~low;
    }

    private static void WriteLeaf(Span<byte> span, string key, int keyBytes, in StateEntry entry, int ownerBytes)
    {
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)keyBytes);
        Encoding.UTF8.GetBytes(key, span[4..]);
        var at = 4 + keyBytes;
        entry.Value.Hash.CopyTo(span[at..]);
        at += 32;
        BinaryPrimitives.WriteInt64BigEndian(span[at..], entry.Counter);
        at += 8;
        BinaryPrimitives.WriteUInt32BigEndian(span[at..], (uint)ownerBytes);
        Encoding.UTF8.GetBytes(entry.Owner, span[(at + 4)..]);
    }

    /// <summary>Byte offset of the leaf at <paramref name="index"/>, summing the shorter side of the lengths.</summary>
    private int OffsetOf(int index)
    {
        var sum = 0;
        if (index <= _count / 2)
        {
            for (var i = 0; i < index; i++)
            {
                sum += _lengths[i];
            }

            return sum;
        }

        for (var i = index; i < _count; i++)
        {
            sum += _lengths[i];
        }

        return _bytes - sum;
    }

    /// <summary>Makes the <paramref name="oldLength"/> bytes at <paramref name="offset"/> <paramref name="newLength"/> long, moving what follows.</summary>
    private void Splice(int offset, int oldLength, int newLength)
    {
        var bytes = _bytes - oldLength + newLength;
        if (bytes > _leaves.Length)
        {
            Array.Resize(ref _leaves, Math.Max(bytes, _leaves.Length * 2));
        }

        if (oldLength != newLength)
        {
            var tail = offset + oldLength;
            _leaves.AsSpan(tail, _bytes - tail).CopyTo(_leaves.AsSpan(offset + newLength));
        }

        _bytes = bytes;
    }

    private void InsertSlot(int index, string key)
    {
        if (_count == _keys.Length)
        {
            Array.Resize(ref _keys, _count * 2);
            Array.Resize(ref _lengths, _count * 2);
        }

        Array.Copy(_keys, index, _keys, index + 1, _count - index);
        Array.Copy(_lengths, index, _lengths, index + 1, _count - index);
        _keys[index] = key;
        _lengths[index] = 0;
        _count++;
    }
}
