using System.Buffers.Binary;

namespace Testbed.Ledger.ProofOfWork;

/// <summary>
/// A header split for mining: the SHA-256 state after every block before the one where the nonce starts
/// (the midstate, computed once) and the padded tail (one or two blocks) the nonce is written into.
/// </summary>
internal sealed class PreparedHeader
{
    private readonly byte[] _tail;
    private readonly uint[] _midstate = new uint[8];

    public PreparedHeader(ReadOnlySpan<byte> header)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(header.Length, ProofOfWorkSearch.NonceSize, nameof(header));
        Length = header.Length;
        var tailStart = (header.Length - ProofOfWorkSearch.NonceSize) / Sha256Scalar.BlockSize * Sha256Scalar.BlockSize;
        Sha256Scalar.InitialState.CopyTo(_midstate);
        for (var offset = 0; offset < tailStart; offset += Sha256Scalar.BlockSize)
        {
            Sha256Scalar.Compress(_midstate, header.Slice(offset, Sha256Scalar.BlockSize));
        }

        Span<byte> padded = stackalloc byte[2 * Sha256Scalar.BlockSize];
        var tailLength = Sha256Scalar.PadTail(header[tailStart..], (ulong)header.Length, padded);
        _tail = padded[..tailLength].ToArray();
        NonceOffset = header.Length - ProofOfWorkSearch.NonceSize - tailStart;
        StartNonce = BinaryPrimitives.ReadUInt64BigEndian(header[^ProofOfWorkSearch.NonceSize..]);

        // Byte position of the nonce's last byte inside its 32-bit word (0 = most significant byte).
        var lastByte = NonceOffset + ProofOfWorkSearch.NonceSize - 1;
        VaryingWord = lastByte / 4;
        LowBits = 8 * ((lastByte % 4) + 1);
        NonceShift = 32 - LowBits;
    }

    /// <summary>Header length in bytes.</summary>
    public int Length { get; }

    /// <summary>The nonce the header carries, where a search starts.</summary>
    public ulong StartNonce { get; }

    /// <summary>Whether the nonce and all padding fit in one final block (header length mod 64 in 8..55), so an attempt is one compression.</summary>
    public bool SingleFinalBlock => _tail.Length == Sha256Scalar.BlockSize;

    /// <summary>Offset of the nonce's first byte inside the tail.</summary>
    public int NonceOffset { get; }

    /// <summary>Index (0..15) of the final-block word holding the nonce's least significant byte: the only word that differs between lanes.</summary>
    public int VaryingWord { get; }

    /// <summary>How many low nonce bits live in <see cref="VaryingWord"/> (8, 16, 24 or 32).</summary>
    public int LowBits { get; }

    /// <summary>Left shift that places the low nonce bits inside <see cref="VaryingWord"/>.</summary>
    public int NonceShift { get; }

    public ReadOnlySpan<uint> Midstate => _midstate;

    public ReadOnlySpan<byte> Tail => _tail;

    /// <summary>Exact SHA-256 of the header carrying <paramref name="nonce"/>, from the midstate (one or two compressions).</summary>
    public void Hash(ulong nonce, Span<byte> hash)
    {
        Span<byte> block = stackalloc byte[2 * Sha256Scalar.BlockSize];
        _tail.CopyTo(block);
        BinaryPrimitives.WriteUInt64BigEndian(block[NonceOffset..], nonce);
        Span<uint> state = stackalloc uint[8];
        _midstate.CopyTo(state);
        for (var offset = 0; offset < _tail.Length; offset += Sha256Scalar.BlockSize)
        {
            Sha256Scalar.Compress(state, block.Slice(offset, Sha256Scalar.BlockSize));
        }

        Sha256Scalar.WriteHash(state, hash);
    }
}
