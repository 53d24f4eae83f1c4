using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Testbed.Ledger.ProofOfWork;

/// <summary>Eight lanes in a 256-bit AVX2 register; rotations are two shifts and an OR (AVX2 has no rotate).</summary>
internal readonly struct Avx2Lanes8 : ISha256Lanes<Vector256<uint>>
{
    public static int Count => 8;

    public static bool IsSupported => Avx2.IsSupported;

    public static Vector256<uint> Broadcast(uint value) => Vector256.Create(value);

    public static Vector256<uint> Load(ReadOnlySpan<uint> lanes) => Vector256.Create(lanes);

    public static void Store(Vector256<uint> value, Span<uint> lanes) => value.CopyTo(lanes);

    public static Vector256<uint> Add(Vector256<uint> left, Vector256<uint> right) => left + right;

    public static Vector256<uint> BigSigma0(Vector256<uint> x) => Rotr(x, 2) ^ Rotr(x, 13) ^ Rotr(x, 22);

    public static Vector256<uint> BigSigma1(Vector256<uint> x) => Rotr(x, 6) ^ Rotr(x, 11) ^ Rotr(x, 25);

    public static Vector256<uint> SmallSigma0(Vector256<uint> x) => Rotr(x, 7) ^ Rotr(x, 18) ^ Vector256.ShiftRightLogical(x, 3);

    public static Vector256<uint> SmallSigma1(Vector256<uint> x) => Rotr(x, 17) ^ Rotr(x, 19) ^ Vector256.ShiftRightLogical(x, 10);

    public static Vector256<uint> Choose(Vector256<uint> e, Vector256<uint> f, Vector256<uint> g) => g ^ (e & (f ^ g));

    public static Vector256<uint> Majority(Vector256<uint> a, Vector256<uint> b, Vector256<uint> c) => (a & b) | (c & (a | b));

    public static uint ZeroLanes(Vector256<uint> value, uint bits) =>
        Vector256.Equals(value & Vector256.Create(bits), Vector256<uint>.Zero).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotr(Vector256<uint> x, [ConstantExpected] byte n) =>
        Vector256.ShiftRightLogical(x, n) | Vector256.ShiftLeft(x, 32 - n);
}
