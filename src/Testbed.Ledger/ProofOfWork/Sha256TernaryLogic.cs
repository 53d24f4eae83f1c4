namespace Testbed.Ledger.ProofOfWork;

/// <summary>vpternlogd truth tables (bit index = 4a + 2b + c) for the three-input SHA-256 functions.</summary>
internal static class Sha256TernaryLogic
{
    /// <summary>a ^ b ^ c, the combination inside every Σ and σ.</summary>
    public const byte Xor3 = 0x96;

    /// <summary>Ch(e, f, g) = e ? f : g.</summary>
    public const byte Choose = 0xCA;

    /// <summary>Maj(a, b, c): set when at least two inputs are set.</summary>
    public const byte Majority = 0xE8;
}
