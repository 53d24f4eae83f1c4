using System.Buffers.Binary;
using System.Diagnostics;
using FsCheck;

namespace Testbed.Ledger.Tests.ProofOfWork;

/// <summary>The nonce search: hashes every kernel computes, found nonces checked with SHA256.HashData, exact attempts, cancellation.</summary>
public sealed class ProofOfWorkSearchTests
{
    private static byte[] WithNonce(byte[] header, ulong nonce)
    {
        var copy = (byte[])header.Clone();
        BinaryPrimitives.WriteUInt64BigEndian(copy.AsSpan(copy.Length - ProofOfWorkSearch.NonceSize), nonce);
        return copy;
    }

    /// <summary>A search that misses every solution must fail the test, not hang it: expected work here is at most 2^20 hashes.</summary>
    private static CancellationToken Bounded() => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    private static byte[] RandomHeader(int seed, int length)
    {
        var header = new byte[length];
        new Random(seed).NextBytes(header);
        return header;
    }

    [Property(MaxTest = 80)]
    public void Every_kernel_hashes_nonces_exactly_like_dotnet_sha256(int seed, byte length, ulong nonce, bool nearEpochEnd)
    {
        // Lengths 8..263 cover one-block layouts (mod 64 in 8..55, every nonce alignment) and the general path.
        var header = RandomHeader(seed, 8 + length);

        // Runs that straddle a boundary where the bytes above the varying word change (every 2^8..2^32 nonces).
        var first = nearEpochEnd ? (nonce | 0xFFFF_FFFFUL) - 20 + (ulong)(seed & 7) : nonce & ~15UL;
        const int count = 48;
        var expected = new byte[count * 32];
        for (var i = 0; i < count; i++)
        {
            SHA256.HashData(WithNonce(header, unchecked(first + (ulong)i))).CopyTo(expected, i * 32);
        }

        foreach (var kernel in Sha256Kernels.Supported)
        {
            var actual = new byte[count * 32];
            ProofOfWorkSearch.HashNonces(header, first, count, kernel, actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{kernel}, header length {header.Length}, first nonce {first}");
        }
    }

    [Theory]
    [InlineData(160)]
    [InlineData(128 + 33)]
    [InlineData(128 + 34)]
    [InlineData(128 + 35)]
    public void Hashes_cross_every_epoch_width(int length)
    {
        // Nonce low bytes roll over at 2^8, 2^16, 2^24 and 2^32: the per-epoch precomputation must follow.
        var header = RandomHeader(length, length);
        foreach (var boundary in new[] { 1UL << 8, 1UL << 16, 1UL << 24, 1UL << 32, 1UL << 40 })
        {
            var first = (boundary * 3) - 32;
            var expected = new byte[64 * 32];
            for (var i = 0; i < 64; i++)
            {
                SHA256.HashData(WithNonce(header, first + (ulong)i)).CopyTo(expected, i * 32);
            }

            foreach (var kernel in Sha256Kernels.Supported)
            {
                var actual = new byte[64 * 32];
                ProofOfWorkSearch.HashNonces(header, first, 64, kernel, actual);
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"{kernel} at {first}");
            }
        }
    }

    [Property(MaxTest = 30)]
    public void One_thread_finds_the_first_nonce_that_meets_the_difficulty(int seed, ulong start)
    {
        var random = new Random(seed);
        var lengths = new[] { 160, 160, 40, 64 + 55, 64 + 8, 60, 64, 130 };
        var header = WithNonce(RandomHeader(seed, lengths[random.Next(lengths.Length)]), start);
        var difficulty = random.Next(0, 10);

        foreach (var kernel in Sha256Kernels.Supported)
        {
            var outcome = ProofOfWorkSearch.Run(header, difficulty, 1, kernel, Bounded());

            var found = Assert.IsType<NonceFound>(outcome.Found);
            var hash = SHA256.HashData(WithNonce(header, found.Nonce));
            Assert.Equal(hash, found.Hash);
            Assert.True(ProofOfWorkSearch.LeadingZeroBits(hash) >= difficulty);
            Assert.Equal((long)unchecked(found.Nonce - start + 1), found.Attempts);
            Assert.Equal(found.Attempts, outcome.Attempts);
            for (var nonce = start; nonce != found.Nonce; nonce = unchecked(nonce + 1))
            {
                Assert.False(ProofOfWorkSearch.Meets(SHA256.HashData(WithNonce(header, nonce)), difficulty), $"{kernel} skipped nonce {nonce}");
            }
        }
    }

    [Property(MaxTest = 15)]
    public void Every_thread_count_finds_a_nonce_that_sha256_confirms(int seed, ulong start, PositiveInt threads)
    {
        var header = WithNonce(RandomHeader(seed, 160), start);
        var difficulty = 8 + (Math.Abs(seed % 8));

        var found = ProofOfWorkSearch.Search(header, difficulty, 1 + (threads.Get % 4), Bounded());

        Assert.NotNull(found);
        var hash = SHA256.HashData(WithNonce(header, found.Nonce));
        Assert.Equal(hash, found.Hash);
        Assert.True(ProofOfWorkSearch.Meets(hash, difficulty));
        Assert.True(found.Attempts >= 1);
    }

    [Fact]
    public void Difficulty_beyond_the_first_hash_word_is_checked_on_the_whole_hash()
    {
        // 34 bits is out of reach in a test, so search a header known to have one: build it by scanning
        // with the search itself at 20 bits, then ask again from that nonce with the exact bit count it reached.
        var header = RandomHeader(7, 160);
        var found = ProofOfWorkSearch.Search(header, 20, 2, Bounded());
        Assert.NotNull(found);
        var reached = ProofOfWorkSearch.LeadingZeroBits(found.Hash);

        var again = ProofOfWorkSearch.Run(WithNonce(header, found.Nonce), reached, 1, Sha256Kernels.Best, Bounded());

        Assert.Equal(found.Nonce, again.Found?.Nonce);
        Assert.Equal(1, again.Attempts);
    }

    [Fact]
    public void The_search_wraps_past_the_largest_nonce()
    {
        var header = WithNonce(RandomHeader(11, 160), ulong.MaxValue - 2);

        var found = ProofOfWorkSearch.Run(header, 12, 1, Sha256Kernels.Best, Bounded()).Found;

        Assert.NotNull(found);
        Assert.True(found.Nonce < 1UL << 20 || found.Nonce >= ulong.MaxValue - 2, $"nonce {found.Nonce}");
        Assert.True(ProofOfWorkSearch.Meets(SHA256.HashData(WithNonce(header, found.Nonce)), 12));
        Assert.Equal((long)unchecked(found.Nonce - (ulong.MaxValue - 2) + 1), found.Attempts);
    }

    [Fact]
    public async Task Cancellation_stops_every_thread_promptly_and_counts_the_work()
    {
        var header = RandomHeader(3, 160);
        using var cancel = new CancellationTokenSource();
        long returnedAt = 0;
        var search = Task.Factory.StartNew(
            () =>
            {
                var outcome = ProofOfWorkSearch.Run(header, 256, 2, Sha256Kernels.Best, cancel.Token);
                returnedAt = Stopwatch.GetTimestamp();
                return outcome;
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        // Let the search get going first (a loaded machine may be slow to schedule it).
        await Task.Delay(300);
        var cancelledAt = Stopwatch.GetTimestamp();
        await cancel.CancelAsync();
        var result = await search.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(result.Found);
        Assert.True(result.Attempts > 0);

        // The design target is under a millisecond; this bound only has to survive a loaded CI machine.
        var latency = Stopwatch.GetElapsedTime(cancelledAt, returnedAt);
        Assert.True(latency < TimeSpan.FromSeconds(2), $"stopped {latency.TotalMilliseconds} ms after cancellation");
    }

    [Fact]
    public void An_already_cancelled_search_returns_null_without_work()
    {
        var outcome = ProofOfWorkSearch.Run(RandomHeader(5, 160), 0, 2, Sha256Kernels.Best, new CancellationToken(true));

        Assert.Null(outcome.Found);
        Assert.Equal(0, outcome.Attempts);
    }

    [Fact]
    public void Bad_arguments_are_rejected_by_name()
    {
        Assert.Throws<ArgumentOutOfRangeException>("header", () => ProofOfWorkSearch.Search(new byte[7], 1, 1, CancellationToken.None));
        Assert.Throws<ArgumentOutOfRangeException>("difficultyBits", () => ProofOfWorkSearch.Search(new byte[160], 257, 1, CancellationToken.None));
        Assert.Throws<ArgumentOutOfRangeException>("difficultyBits", () => ProofOfWorkSearch.Search(new byte[160], -1, 1, CancellationToken.None));
        Assert.Throws<ArgumentOutOfRangeException>("threads", () => ProofOfWorkSearch.Search(new byte[160], 1, 0, CancellationToken.None));
    }
}
