using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Testbed.Ledger.ProofOfWork;

/// <summary>Sixteen lanes in a 512-bit AVX-512F register with vprord rotates and vpternlogd three-input logic.</summary>
internal readonly struct Avx512Lanes16 : ISha256Lanes<Vector512<uint>>
{
    public static int Count => 16;

    public static bool IsSupported => Avx512F.IsSupported;

    public static Vector512<uint> Broadcast(uint value) => Vector512.Create(value);

    public static Vector512<uint> Load(ReadOnlySpan<uint> lanes) => Vector512.Create(lanes);

    public static void Store(Vector512<uint> value, Span<uint> lanes) => value.CopyTo(lanes);

    public static Vector512<uint> Add(Vector512<uint> left, Vector512<uint> right) => left + right;

    public static Vector512<uint> BigSigma0(Vector512<uint> x) =>
        Avx512F.TernaryLogic(Avx512F.RotateRight(x, 2), Avx512F.RotateRight(x, 13), Avx512F.RotateRight(x, 22), Sha256TernaryLogic.Xor3);

    public static Vector512<uint> BigSigma1(Vector512<uint> x) =>
        Avx512F.TernaryLogic(Avx512F.RotateRight(x, 6), Avx512F.RotateRight(x, 11), Avx512F.RotateRight(x, 25), Sha256TernaryLogic.Xor3);

    public static Vector512<uint> SmallSigma0(Vector512<uint> x) =>
        Avx512F.TernaryLogic(Avx512F.RotateRight(x, 7), Avx512F.RotateRight(x, 18), Vector512.ShiftRightLogical(x, 3), Sha256TernaryLogic.Xor3);

    public static Vector512<uint> SmallSigma1(Vector512<uint> x) =>
        Avx512F.TernaryLogic(Avx512F.RotateRight(x, 17), Avx512F.RotateRight(x, 19), Vector512.ShiftRightLogical(x, 10), Sha256TernaryLogic.Xor3);

    public static Vector512<uint> Choose(Vector512<uint> e, Vector512<uint> f, Vector512<uint> g) =>
        Avx512F.TernaryLogic(e, f, g, Sha256TernaryLogic.Choose);

    public static Vector512<uint> Majority(Vector512<uint> a, Vector512<uint> b, Vector512<uint> c) =>
        Avx512F.TernaryLogic(a, b, c, Sha256TernaryLogic.Majority);

    public static uint ZeroLanes(Vector512<uint> value, uint bits) =>
        (uint)Vector512.Equals(value & Vector512.Create(bits), Vector512<uint>.Zero).ExtractMostSignificantBits();
}
