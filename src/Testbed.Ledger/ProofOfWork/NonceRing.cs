namespace Testbed.Ledger.ProofOfWork;

/// <summary>
/// Splits the 2^64 nonces, starting at a given nonce and wrapping once around, into chunk-aligned steps that
/// threads claim one at a time; step 0 is the start's partial chunk, the last step that chunk's part before the start.
/// </summary>
internal readonly struct NonceRing
{
    private readonly ulong _start;
    private readonly int _chunkBits;
    private readonly ulong _chunks;

    public NonceRing(ulong start, int chunkBits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkBits, 32);
        _start = start;
        _chunkBits = chunkBits;
        _chunks = 1UL << (64 - chunkBits);
    }

    /// <summary>Nonces per step (a power of two).</summary>
    public ulong ChunkSize => 1UL << _chunkBits;

    /// <summary>The nonces of step <paramref name="step"/>: <paramref name="count"/> consecutive ones from <paramref name="first"/>; false once the ring is exhausted.</summary>
    public bool TryGet(ulong step, out ulong first, out ulong count)
    {
        first = 0;
        count = 0;
        if (step > _chunks)
        {
            return false;
        }

        var startChunk = _start >> _chunkBits;
        var chunk = (startChunk + step) & (_chunks - 1);
        var chunkFirst = chunk << _chunkBits;
        var before = _start - (startChunk << _chunkBits);
        if (step == 0)
        {
            first = _start;
            count = ChunkSize - before;
        }
        else if (step == _chunks)
        {
            first = chunkFirst;
            count = before;
        }
        else
        {
            first = chunkFirst;
            count = ChunkSize;
        }

        return count > 0;
    }
}
