using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Testbed.Ledger.ProofOfWork;

/// <summary>
/// A fixed number of vectors starting at a multiple of the vector's size, so that no vector load or store straddles
/// two cache lines: the GC aligns an array's data to 8 or 16 bytes only, so unless an array happened to land on a
/// line boundary every 64-byte access of the AVX-512 kernel was split in two (aligned, the kernel does about 20% more
/// per CPU-second). The array sits on the pinned object heap, so the GC never moves it.
/// </summary>
internal sealed class AlignedVectors<TVec>
    where TVec : struct
{
    private readonly TVec[] _array;
    private readonly nint _offset;

    public AlignedVectors(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;

        // One spare vector leaves room to move the start up to the next multiple of the (power-of-two) vector size.
        _array = GC.AllocateArray<TVec>(length + 1, pinned: true);
        var handle = GCHandle.Alloc(_array, GCHandleType.Pinned);
        try
        {
            var size = Unsafe.SizeOf<TVec>();
            _offset = (size - (handle.AddrOfPinnedObject() % size)) % size;
        }
        finally
        {
            handle.Free();
        }
    }

    public int Length { get; }

    /// <summary>The first vector; the others follow it contiguously.</summary>
    public ref TVec First => ref Unsafe.AddByteOffset(ref MemoryMarshal.GetArrayDataReference(_array), _offset);

    public ref TVec this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Length, nameof(index));
            return ref Unsafe.Add(ref First, index);
        }
    }
}
