using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Testbed.Ledger.ProofOfWork;

/// <summary>A nonce that makes a header's SHA-256 meet the target, with the work spent finding it.</summary>
public sealed record NonceFound(ulong Nonce, byte[] Hash, long Attempts);

/// <summary>
/// Searches nonces for a header whose last 8 bytes are the nonce (big-endian) and whose SHA-256 must
/// start with at least <c>difficultyBits</c> zero bits. Every attempt is plain SHA-256 of the header,
/// so any SHA-256 implementation can check the result.
/// </summary>
public static class ProofOfWorkSearch
{
    public const int NonceSize = 8;

    /// <summary>Searches on <paramref name="threads"/> cores until found or cancelled (then returns null).</summary>
    public static NonceFound? Search(ReadOnlySpan<byte> header, int difficultyBits, int threads, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(header.Length, NonceSize);
        ArgumentOutOfRangeException.ThrowIfNegative(difficultyBits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(difficultyBits, 256);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);

        var template = header.ToArray();
        var startNonce = BinaryPrimitives.ReadUInt64BigEndian(header[^NonceSize..]);
        NonceFound? found = null;
        long attempts = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        var workers = Enumerable.Range(0, threads).Select(lane => Task.Factory.StartNew(() =>
        {
            var candidate = (byte[])template.Clone();
            Span<byte> hash = stackalloc byte[32];
            long local = 0;
            for (var nonce = startNonce + (ulong)lane; !stop.IsCancellationRequested; nonce += (ulong)threads)
            {
                BinaryPrimitives.WriteUInt64BigEndian(candidate.AsSpan(candidate.Length - NonceSize), nonce);
                SHA256.HashData(candidate, hash);
                local++;
                if (LeadingZeroBits(hash) >= difficultyBits)
                {
                    Interlocked.CompareExchange(ref found, new NonceFound(nonce, hash.ToArray(), 0), null);
                    stop.Cancel();
                }
            }

            Interlocked.Add(ref attempts, local);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        Task.WaitAll(workers, CancellationToken.None);
        return found is null ? null : found with { Attempts = attempts };
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
                return bits + System.Numerics.BitOperations.LeadingZeroCount((uint)b) - 24;
            }

            bits += 8;
        }

        return bits;
    }
}
