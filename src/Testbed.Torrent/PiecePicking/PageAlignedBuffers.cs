using System.Collections.Concurrent;
using System.Numerics;
using Testbed.Torrent.Storage;

namespace Testbed.Torrent.PiecePicking;

/// <summary>
/// Pooled piece buffers whose usable window starts on a page boundary (pinned arrays never move, so the alignment holds):
/// a verified piece's aligned middle then goes to the device with O_DIRECT straight from the buffer, without a copy into a
/// bounce buffer. Arrays are kept per power-of-two size, up to <see cref="MaxRetainedBytes"/> in all; the rest are left to
/// the GC.
/// </summary>
internal static class PageAlignedBuffers
{
    private const int Alignment = DirectWriter.Alignment;

    /// <summary>Most bytes kept for reuse (enough for a full verify queue plus the pieces being assembled).</summary>
    private const long MaxRetainedBytes = 160L * 1024 * 1024;

    private static readonly ConcurrentDictionary<int, ConcurrentStack<byte[]>> Pools = new();
    private static long _retained;

    /// <summary>A buffer of at least <paramref name="length"/> usable bytes from the returned offset, which is page-aligned in memory.</summary>
    public static (byte[] Array, int Offset) Rent(int length)
    {
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, Alignment));
        if (Pools.TryGetValue(size, out var pool) && pool.TryPop(out var array))
        {
            Interlocked.Add(ref _retained, -array.Length);
        }
        else
        {
            array = GC.AllocateUninitializedArray<byte>(size + Alignment, pinned: true);
        }

        return (array, DirectWriter.ToPageBoundary(array));
    }

    /// <summary>Takes back an array <see cref="Rent"/> gave (kept for reuse while under the bound).</summary>
    public static void Return(byte[] array)
    {
        if (Interlocked.Add(ref _retained, array.Length) > MaxRetainedBytes)
        {
            Interlocked.Add(ref _retained, -array.Length);
            return;
        }

        Pools.GetOrAdd(array.Length - Alignment, _ => new ConcurrentStack<byte[]>()).Push(array);
    }
}
