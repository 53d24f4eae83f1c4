namespace Testbed.Ledger.ProofOfWork;

/// <summary>
/// The SHA-256 word operations over <typeparamref name="TVec"/>, a vector of independent 32-bit lanes (or one
/// plain word); kernels are generic over it so the JIT compiles one specialised copy per instruction set.
/// </summary>
internal interface ISha256Lanes<TVec>
    where TVec : struct
{
    static abstract int Count { get; }

    static abstract bool IsSupported { get; }

    static abstract TVec Broadcast(uint value);

    static abstract TVec Load(ReadOnlySpan<uint> lanes);

    static abstract void Store(TVec value, Span<uint> lanes);

    static abstract TVec Add(TVec left, TVec right);

    static abstract TVec BigSigma0(TVec x);

    static abstract TVec BigSigma1(TVec x);

    static abstract TVec SmallSigma0(TVec x);

    static abstract TVec SmallSigma1(TVec x);

    static abstract TVec Choose(TVec e, TVec f, TVec g);

    static abstract TVec Majority(TVec a, TVec b, TVec c);

    /// <summary>Bit i set when lane i of <paramref name="value"/> has no bit of <paramref name="bits"/> set.</summary>
    static abstract uint ZeroLanes(TVec value, uint bits);
}
