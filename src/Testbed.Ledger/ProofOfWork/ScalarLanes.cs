namespace Testbed.Ledger.ProofOfWork;

/// <summary>One lane in a general-purpose register: the fallback when the CPU has no usable vector unit.</summary>
internal readonly struct ScalarLanes : ISha256Lanes<uint>
{
    public static int Count => 1;

    public static bool IsSupported => true;

    public static uint Broadcast(uint value) => value;

    public static uint Load(ReadOnlySpan<uint> lanes) => lanes[0];

    public static void Store(uint value, Span<uint> lanes) => lanes[0] = value;

    public static uint Add(uint left, uint right) => left + right;

    public static uint BigSigma0(uint x) => Sha256Scalar.BigSigma0(x);

    public static uint BigSigma1(uint x) => Sha256Scalar.BigSigma1(x);

    public static uint SmallSigma0(uint x) => Sha256Scalar.SmallSigma0(x);

    public static uint SmallSigma1(uint x) => Sha256Scalar.SmallSigma1(x);

    public static uint Choose(uint e, uint f, uint g) => Sha256Scalar.Choose(e, f, g);

    public static uint Majority(uint a, uint b, uint c) => Sha256Scalar.Majority(a, b, c);

    public static uint ZeroLanes(uint value, uint bits) => (value & bits) == 0 ? 1u : 0u;
}
