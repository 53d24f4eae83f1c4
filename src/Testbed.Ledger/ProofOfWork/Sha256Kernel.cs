namespace Testbed.Ledger.ProofOfWork;

/// <summary>An implementation of the SHA-256 compression, by instruction set and lane count.</summary>
public enum Sha256Kernel
{
    /// <summary>One lane in general-purpose registers; runs everywhere.</summary>
    Scalar,

    /// <summary>8 lanes, AVX2 (rotates as shift pairs).</summary>
    Vector256Avx2,

    /// <summary>8 lanes, AVX-512VL rotates and ternary logic on 256-bit registers.</summary>
    Vector256Avx512,

    /// <summary>16 lanes, AVX-512F on 512-bit registers.</summary>
    Vector512Avx512,
}

/// <summary>Which kernels this CPU runs, which is fastest, and entry points that run a chosen kernel.</summary>
public static class Sha256Kernels
{
    /// <summary>The kernel the miner uses by default: the widest this CPU supports.</summary>
    public static Sha256Kernel Best { get; } =
        Avx512Lanes16.IsSupported && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? Sha256Kernel.Vector512Avx512
        : Avx512Lanes8.IsSupported ? Sha256Kernel.Vector256Avx512
        : Avx2Lanes8.IsSupported ? Sha256Kernel.Vector256Avx2
        : Sha256Kernel.Scalar;

    /// <summary>Every kernel this CPU can run.</summary>
    public static IReadOnlyList<Sha256Kernel> Supported { get; } =
        [.. Enum.GetValues<Sha256Kernel>().Where(IsSupported)];

    /// <summary>Whether this CPU has the instructions <paramref name="kernel"/> needs.</summary>
    public static bool IsSupported(Sha256Kernel kernel) => kernel switch
    {
        Sha256Kernel.Scalar => ScalarLanes.IsSupported,
        Sha256Kernel.Vector256Avx2 => Avx2Lanes8.IsSupported,
        Sha256Kernel.Vector256Avx512 => Avx512Lanes8.IsSupported,
        Sha256Kernel.Vector512Avx512 => Avx512Lanes16.IsSupported,
        _ => false,
    };

    /// <summary>Nonces (or messages) one call of the kernel processes at once.</summary>
    public static int Lanes(Sha256Kernel kernel) => kernel switch
    {
        Sha256Kernel.Scalar => ScalarLanes.Count,
        Sha256Kernel.Vector256Avx2 => Avx2Lanes8.Count,
        Sha256Kernel.Vector256Avx512 => Avx512Lanes8.Count,
        Sha256Kernel.Vector512Avx512 => Avx512Lanes16.Count,
        _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Unknown SHA-256 kernel."),
    };

    /// <summary>SHA-256 of each message, computed by <paramref name="kernel"/> with one message per lane.</summary>
    public static byte[][] HashMany(Sha256Kernel kernel, IReadOnlyList<byte[]> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        RequireSupported(kernel);
        return kernel switch
        {
            Sha256Kernel.Scalar => LaneCompression<ScalarLanes, uint>.HashMany(messages),
            Sha256Kernel.Vector256Avx2 => LaneCompression<Avx2Lanes8, System.Runtime.Intrinsics.Vector256<uint>>.HashMany(messages),
            Sha256Kernel.Vector256Avx512 => LaneCompression<Avx512Lanes8, System.Runtime.Intrinsics.Vector256<uint>>.HashMany(messages),
            _ => LaneCompression<Avx512Lanes16, System.Runtime.Intrinsics.Vector512<uint>>.HashMany(messages),
        };
    }

    internal static INonceBatcher CreateBatcher(Sha256Kernel kernel, PreparedHeader header)
    {
        RequireSupported(kernel);
        return kernel switch
        {
            Sha256Kernel.Scalar => new NonceKernel<ScalarLanes, uint>(header),
            Sha256Kernel.Vector256Avx2 => new NonceKernel<Avx2Lanes8, System.Runtime.Intrinsics.Vector256<uint>>(header),
            Sha256Kernel.Vector256Avx512 => new NonceKernel<Avx512Lanes8, System.Runtime.Intrinsics.Vector256<uint>>(header),
            _ => new NonceKernel<Avx512Lanes16, System.Runtime.Intrinsics.Vector512<uint>>(header),
        };
    }

    private static void RequireSupported(Sha256Kernel kernel)
    {
        if (!IsSupported(kernel))
        {
            throw new PlatformNotSupportedException($"The SHA-256 kernel {kernel} needs instructions this CPU lacks.");
        }
    }
}
