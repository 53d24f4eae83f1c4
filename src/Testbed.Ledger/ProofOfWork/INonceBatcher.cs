namespace Testbed.Ledger.ProofOfWork;

/// <summary>Hashes a batch of consecutive nonces (one per lane) of a single-final-block header; one instance per thread.</summary>
internal interface INonceBatcher
{
    /// <summary>Nonces per batch; a batch's first nonce is a multiple of it.</summary>
    int Lanes { get; }

    /// <summary>Bit i set when hash word 0 of nonce <c>first + i</c> has none of <paramref name="zeroBits"/> set.</summary>
    uint Candidates(ulong first, uint zeroBits);

    /// <summary>Writes the 8 hash words of each lane, word-major (<c>words[8 * lane + i]</c>).</summary>
    void Hashes(ulong first, Span<uint> words);
}
