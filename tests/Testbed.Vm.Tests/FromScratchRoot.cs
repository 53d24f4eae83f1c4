using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Testbed.Vm.Tests;

/// <summary>
/// The documented state-root definition computed from nothing but the public state view, every key every time: the
/// oracle the VM's incremental root (cached bucket leaves and hashes) is compared with.
/// </summary>
internal static class FromScratchRoot
{
    public static string Of(VmState state)
    {
        var head = new List<byte>("testbed-vm-state-v1"u8.ToArray());
        head.AddRange(U32((uint)state.MemoryWords.Length));
        foreach (var word in state.MemoryWords.ToArray())
        {
            head.AddRange(I64(word));
        }

        head.AddRange(I64(state.RegisterA));
        head.AddRange(I64(state.RegisterB));
        head.AddRange(I64(state.RegisterC));

        var root = new List<byte>(SHA256.HashData(head.ToArray()));
        foreach (var collection in state.Collections.Where(c => c.Count > 0).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var name = Encoding.UTF8.GetBytes(collection.Name);
            root.AddRange(U32((uint)name.Length));
            root.AddRange(name);
            root.AddRange(U32((uint)collection.Count));
            root.AddRange(CollectionHash(collection));
        }

        return Convert.ToHexStringLower(SHA256.HashData(root.ToArray()));
    }

    private static byte[] CollectionHash(VmCollection collection)
    {
        var buckets = 1;
        while (buckets < 4096 && buckets * 32 < collection.Count)
        {
            buckets <<= 1;
        }

        var summary = new List<byte>();
        foreach (var bucket in collection.Entries.GroupBy(e => Fnv1a(e.Key) & (uint)(buckets - 1)).OrderBy(g => g.Key))
        {
            var leaves = new List<byte>();
            foreach (var (key, entry) in bucket.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                var keyBytes = Encoding.UTF8.GetBytes(key);
                var owner = Encoding.UTF8.GetBytes(entry.Owner);
                leaves.AddRange(U32((uint)keyBytes.Length));
                leaves.AddRange(keyBytes);
                leaves.AddRange(entry.Value.Sha256.ToArray());
                leaves.AddRange(I64(entry.Counter));
                leaves.AddRange(U32((uint)owner.Length));
                leaves.AddRange(owner);
            }

            summary.AddRange(U32(bucket.Key));
            summary.AddRange(U32((uint)bucket.Count()));
            summary.AddRange(SHA256.HashData(leaves.ToArray()));
        }

        return SHA256.HashData(summary.ToArray());
    }

    private static uint Fnv1a(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    private static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] I64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }
}
