namespace Testbed.Ledger.ProofOfWork;

/// <summary>
/// Which message-schedule words of the final block depend on the nonce when only word <c>k</c> varies:
/// W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], and each term whose source word is fixed is
/// folded into a per-epoch constant, so a batch computes only the varying terms of the varying words.
/// </summary>
internal sealed class FinalBlockSchedule
{
    /// <summary>Term flags of a varying word: which of its four sources vary.</summary>
    public const int Sigma1Term = 1, Minus7Term = 2, Sigma0Term = 4, Minus16Term = 8;

    public FinalBlockSchedule(int varyingWord)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(varyingWord);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(varyingWord, 15);
        VaryingWord = varyingWord;
        var varying = 1UL << varyingWord;
        var plan = new List<int>();
        for (var t = 16; t < 64; t++)
        {
            var flags = (Varies(varying, t - 2) ? Sigma1Term : 0)
                | (Varies(varying, t - 7) ? Minus7Term : 0)
                | (Varies(varying, t - 15) ? Sigma0Term : 0)
                | (Varies(varying, t - 16) ? Minus16Term : 0);
            if (flags != 0)
            {
                varying |= 1UL << t;
                plan.Add(t | (flags << 8));
            }
        }

        VaryingMask = varying;
        Plan = [.. plan];
    }

    public int VaryingWord { get; }

    /// <summary>Bit t set when schedule word t depends on the nonce.</summary>
    public ulong VaryingMask { get; }

    /// <summary>Varying words from 16 on, ascending: <c>t | flags &lt;&lt; 8</c>.</summary>
    public int[] Plan { get; }

    public bool IsVarying(int t) => Varies(VaryingMask, t);

    private static bool Varies(ulong mask, int t) => ((mask >> t) & 1) != 0;
}
