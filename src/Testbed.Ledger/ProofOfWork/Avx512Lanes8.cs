using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Testbed.Ledger.ProofOfWork;

/// <summary>Eight lanes in a 256-bit register using AVX-512VL's rotate (vprord) and three-input logic (vpternlogd).</summary>
internal readonly struct Avx512Lanes8 : ISha256Lanes<Vector256<uint>>
{
    public static int Count => 8;

    public static bool IsSupported => Avx512F.VL.IsSupported;

    public static Vector256<uint> Broadcast(uint value) => Vector256.Create(value);

    public static Vector256<uint> Load(ReadOnlySpan<uint> lanes) => Vector256.Create(lanes);

    public static void Store(Vector256<uint> value, Span<uint> lanes) => value.CopyTo(lanes);

    public static Vector256<uint> Add(Vector256<uint> left, Vector256<uint> right) => left + right;

    public static Vector256<uint> BigSigma0(Vector256<uint> x) =>
        Avx512F.VL.TernaryLogic(Avx512F.VL.RotateRight(x, 2), Avx512F.VL.RotateRight(x, 13), Avx512F.VL.RotateRight(x, 22), Sha256TernaryLogic.Xor3);

    public static Vector256<uint> BigSigma1(Vector256<uint> x) =>
        Avx512F.VL.TernaryLogic(Avx512F.VL.RotateRight(x, 6), Avx512F.VL.RotateRight(x, 11), Avx512F.VL.RotateRight(x, 25), Sha256TernaryLogic.Xor3);

    public static Vector256<uint> SmallSigma0(Vector256<uint> x) =>
        Avx512F.VL.TernaryLogic(Avx512F.VL.RotateRight(x, 7), Avx512F.VL.RotateRight(x, 18), Vector256.ShiftRightLogical(x, 3), Sha256TernaryLogic.Xor3);

    public static Vector256<uint> SmallSigma1(Vector256<uint> x) =>
        Avx512F.VL.TernaryLogic(Avx512F.VL.RotateRight(x, 17), Avx512F.VL.RotateRight(x, 19), Vector256.ShiftRightLogical(x, 10), Sha256TernaryLogic.Xor3);

    public static Vector256<uint> Choose(Vector256<uint> e, Vector256<uint> f, Vector256<uint> g) =>
        Avx512F.VL.TernaryLogic(e, f, g, Sha256TernaryLogic.Choose);

    public static Vector256<uint> Majority(Vector256<uint> a, Vector256<uint> b, Vector256<uint> c) =>
        Avx512F.VL.TernaryLogic(a, b, c, Sha256TernaryLogic.Majority);

    public static uint ZeroLanes(Vector256<uint> value, uint bits) =>
        Vector256.Equals(value & Vector256.Create(bits), Vector256<uint>.Zero).ExtractMostSignificantBits();
}
