using System.Diagnostics;
using System.Numerics;
using System.Runtime.ExceptionServices;

namespace Testbed.Ledger.ProofOfWork;

/// <summary>A nonce that makes a header's SHA-256 meet the target, with the work spent finding it.</summary>
public sealed record NonceFound(ulong Nonce, byte[] Hash, long Attempts);

/// <summary>What one search did: the nonce found (null when cancelled or exhausted), every nonce hashed, and for how long.</summary>
public sealed record SearchOutcome(NonceFound? Found, long Attempts, TimeSpan Elapsed, Sha256Kernel Kernel, int Threads);

/// <summary>
/// Searches nonces for a header whose last 8 bytes are the nonce (big-endian) and whose SHA-256 must
/// start with at least <c>difficultyBits</c> zero bits. Every attempt is plain SHA-256 of the header,
/// so any SHA-256 implementation can check the result. When the nonce and the padding fit in the final
/// 64-byte block (header length mod 64 in 8..55, e.g. the 160-byte block header) an attempt costs one
/// compression from a fixed midstate, run on SIMD lanes; other lengths take the general scalar path.
/// </summary>
public static class ProofOfWorkSearch
{
    public const int NonceSize = 8;

    /// <summary>Batches per claimed step: small enough that a cancelled search stops well within a millisecond.</summary>
    private const int BatchesPerStepBits = 8;

    /// <summary>Searches on <paramref name="threads"/> cores until found or cancelled (then returns null).</summary>
    public static NonceFound? Search(ReadOnlySpan<byte> header, int difficultyBits, int threads, CancellationToken cancellationToken) =>
        Run(header, difficultyBits, threads, Sha256Kernels.Best, cancellationToken).Found;

    /// <summary>
    /// Searches from the header's nonce upwards (wrapping once round the 2^64 nonces) with a chosen kernel.
    /// <see cref="SearchOutcome.Attempts"/> counts every nonce whose hash was computed and checked, each once; a
    /// thread that finds a solution stops counting at it, so one thread gives attempts = nonce - start + 1.
    /// </summary>
    public static SearchOutcome Run(ReadOnlySpan<byte> header, int difficultyBits, int threads, Sha256Kernel kernel, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(header.Length, NonceSize, nameof(header));
        ArgumentOutOfRangeException.ThrowIfNegative(difficultyBits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(difficultyBits, 256);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (!Sha256Kernels.IsSupported(kernel))
        {
            throw new PlatformNotSupportedException($"The SHA-256 kernel {kernel} needs instructions this CPU lacks.");
        }

        var stopwatch = Stopwatch.StartNew();
        var search = new SharedSearch(new PreparedHeader(header), difficultyBits, kernel, cancellationToken);
        var helpers = new Thread[threads - 1];
        for (var i = 0; i < helpers.Length; i++)
        {
            helpers[i] = new Thread(search.Work) { IsBackground = true, Name = $"pow-{i + 1}" };
            helpers[i].Start();
        }

        search.Work();
        foreach (var helper in helpers)
        {
            helper.Join();
        }

        search.Failure?.Throw();
        var found = search.Found is null ? null : search.Found with { Attempts = search.Attempts };
        return new SearchOutcome(found, search.Attempts, stopwatch.Elapsed, kernel, threads);
    }

    /// <summary>
    /// Writes SHA-256 of the header carrying each nonce <c>first .. first + count - 1</c> to <paramref name="hashes"/>
    /// (32 bytes each), computed the way the search computes them with <paramref name="kernel"/>.
    /// </summary>
    public static void HashNonces(ReadOnlySpan<byte> header, ulong first, int count, Sha256Kernel kernel, Span<byte> hashes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(hashes.Length, count * Sha256Scalar.HashSize, nameof(hashes));
        var prepared = new PreparedHeader(header);
        var batcher = prepared.SingleFinalBlock ? Sha256Kernels.CreateBatcher(kernel, prepared) : null;
        var lanes = batcher?.Lanes ?? 1;
        Span<uint> words = stackalloc uint[8 * lanes];
        var done = 0;
        while (done < count)
        {
            var nonce = unchecked(first + (ulong)done);
            if (batcher is not null && nonce % (ulong)lanes == 0 && count - done >= lanes && nonce <= ulong.MaxValue - (ulong)lanes + 1)
            {
                batcher.Hashes(nonce, words);
                for (var lane = 0; lane < lanes; lane++)
                {
                    Sha256Scalar.WriteHash(words.Slice(8 * lane, 8), hashes[((done + lane) * Sha256Scalar.HashSize)..]);
                }

                done += lanes;
            }
            else
            {
                prepared.Hash(nonce, hashes.Slice(done * Sha256Scalar.HashSize, Sha256Scalar.HashSize));
                done++;
            }
        }
    }

    /// <summary>Whether a hash has at least <paramref name="difficultyBits"/> leading zero bits.</summary>
    public static bool Meets(ReadOnlySpan<byte> hash, int difficultyBits) => LeadingZeroBits(hash) >= difficultyBits;

    /// <summary>Number of leading zero bits of a hash, most significant bit of byte 0 first.</summary>
    public static int LeadingZeroBits(ReadOnlySpan<byte> hash)
    {
        var bits = 0;
        foreach (var b in hash)
        {
            if (b != 0)
            {
                return bits + BitOperations.LeadingZeroCount((uint)b) - 24;
            }

            bits += 8;
        }

        return bits;
    }

    /// <summary>State shared by the threads of one search.</summary>
    private sealed class SharedSearch(PreparedHeader header, int difficultyBits, Sha256Kernel kernel, CancellationToken cancellationToken)
    {
        private readonly NonceRing _ring = new(header.StartNonce, BitOperations.Log2((uint)Sha256Kernels.Lanes(kernel)) + BatchesPerStepBits);
        private readonly uint _zeroBits = Math.Min(difficultyBits, 32) == 0 ? 0u : uint.MaxValue << (32 - Math.Min(difficultyBits, 32));
        private long _nextStep;
        private long _attempts;
        private volatile bool _done;
        private NonceFound? _found;
        private ExceptionDispatchInfo? _failure;

        public NonceFound? Found => Volatile.Read(ref _found);

        public long Attempts => Interlocked.Read(ref _attempts);

        public ExceptionDispatchInfo? Failure => _failure;

        public void Work()
        {
            long local = 0;
            try
            {
                var batcher = header.SingleFinalBlock ? Sha256Kernels.CreateBatcher(kernel, header) : null;
                var lanes = (ulong)(batcher?.Lanes ?? 1);
                Span<byte> hash = stackalloc byte[Sha256Scalar.HashSize];
                while (!_done && !cancellationToken.IsCancellationRequested)
                {
                    if (!_ring.TryGet((ulong)(Interlocked.Increment(ref _nextStep) - 1), out var nonce, out var count))
                    {
                        return;
                    }

                    while (count > 0)
                    {
                        if (batcher is not null && count >= lanes && nonce % lanes == 0)
                        {
                            var candidates = batcher.Candidates(nonce, _zeroBits);
                            while (candidates != 0)
                            {
                                var lane = BitOperations.TrailingZeroCount(candidates);
                                candidates &= candidates - 1;
                                header.Hash(nonce + (ulong)lane, hash);
                                if (Meets(hash, difficultyBits))
                                {
                                    local += lane + 1;
                                    Report(nonce + (ulong)lane, hash);
                                    return;
                                }
                            }

                            local += (long)lanes;
                            nonce += lanes;
                            count -= lanes;
                        }
                        else
                        {
                            // The general path, and the few nonces before the first lane-aligned batch.
                            header.Hash(nonce, hash);
                            local++;
                            if (Meets(hash, difficultyBits))
                            {
                                Report(nonce, hash);
                                return;
                            }

                            nonce = unchecked(nonce + 1);
                            count--;
                        }
                    }
                }
            }
            catch (Exception exception)
            {
                _failure = ExceptionDispatchInfo.Capture(exception);
                _done = true;
            }
            finally
            {
                Interlocked.Add(ref _attempts, local);
            }
        }

        private void Report(ulong nonce, ReadOnlySpan<byte> hash)
        {
            Interlocked.CompareExchange(ref _found, new NonceFound(nonce, hash.ToArray(), 0), null);
            _done = true;
        }
    }
}
