using System.Buffers.Binary;
using System.Numerics;

namespace Testbed.Ledger.ProofOfWork;

/// <summary>One-lane SHA-256 (FIPS 180-4): the compression function and a whole-message hash built on it.</summary>
public static class Sha256Scalar
{
    /// <summary>Bytes in one SHA-256 message block.</summary>
    public const int BlockSize = 64;

    /// <summary>Bytes in a SHA-256 digest.</summary>
    public const int HashSize = 32;

    /// <summary>The initial hash value H(0).</summary>
    public static ReadOnlySpan<uint> InitialState =>
    [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];

    /// <summary>The 64 round constants K.</summary>
    public static ReadOnlySpan<uint> RoundConstants =>
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    /// <summary>Applies the compression function to <paramref name="state"/> (8 words) with one 64-byte block.</summary>
    public static void Compress(Span<uint> state, ReadOnlySpan<byte> block)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(state.Length, 8);
        ArgumentOutOfRangeException.ThrowIfLessThan(block.Length, BlockSize);
        Span<uint> w = stackalloc uint[64];
        for (var t = 0; t < 16; t++)
        {
            w[t] = BinaryPrimitives.ReadUInt32BigEndian(block[(4 * t)..]);
        }

        Compress(state, w);
    }

    /// <summary>Compression with the first 16 message words already loaded; <paramref name="w"/> (64 words) is used as the schedule.</summary>
    internal static void Compress(Span<uint> state, Span<uint> w)
    {
        for (var t = 16; t < 64; t++)
        {
            w[t] = SmallSigma1(w[t - 2]) + w[t - 7] + SmallSigma0(w[t - 15]) + w[t - 16];
        }

        uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
        var k = RoundConstants;
        for (var t = 0; t < 64; t++)
        {
            var t1 = h + BigSigma1(e) + Choose(e, f, g) + k[t] + w[t];
            var t2 = BigSigma0(a) + Majority(a, b, c);
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }

        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }

    /// <summary>SHA-256 of a whole message, written to <paramref name="destination"/> (32 bytes).</summary>
    public static void HashData(ReadOnlySpan<byte> message, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, HashSize);
        Span<uint> state = stackalloc uint[8];
        InitialState.CopyTo(state);
        var full = message.Length / BlockSize * BlockSize;
        for (var offset = 0; offset < full; offset += BlockSize)
        {
            Compress(state, message.Slice(offset, BlockSize));
        }

        Span<byte> tail = stackalloc byte[2 * BlockSize];
        var tailLength = PadTail(message[full..], (ulong)message.Length, tail);
        for (var offset = 0; offset < tailLength; offset += BlockSize)
        {
            Compress(state, tail.Slice(offset, BlockSize));
        }

        WriteHash(state, destination);
    }

    /// <summary>SHA-256 of a whole message.</summary>
    public static byte[] HashData(ReadOnlySpan<byte> message)
    {
        var hash = new byte[HashSize];
        HashData(message, hash);
        return hash;
    }

    /// <summary>
    /// Copies the last partial block of a message into <paramref name="destination"/> (128 bytes) followed by
    /// the 0x80 byte, zeros and the 64-bit big-endian bit length; returns the padded length (64 or 128).
    /// </summary>
    internal static int PadTail(ReadOnlySpan<byte> remainder, ulong messageLength, Span<byte> destination)
    {
        var padded = remainder.Length + 9 <= BlockSize ? BlockSize : 2 * BlockSize;
        destination[..padded].Clear();
        remainder.CopyTo(destination);
        destination[remainder.Length] = 0x80;
        BinaryPrimitives.WriteUInt64BigEndian(destination[(padded - 8)..], messageLength * 8);
        return padded;
    }

    /// <summary>Writes the 8 state words big-endian, which is the digest.</summary>
    internal static void WriteHash(ReadOnlySpan<uint> state, Span<byte> destination)
    {
        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[(4 * i)..], state[i]);
        }
    }

    internal static uint BigSigma0(uint x) => BitOperations.RotateRight(x, 2) ^ BitOperations.RotateRight(x, 13) ^ BitOperations.RotateRight(x, 22);

    internal static uint BigSigma1(uint x) => BitOperations.RotateRight(x, 6) ^ BitOperations.RotateRight(x, 11) ^ BitOperations.RotateRight(x, 25);

    internal static uint SmallSigma0(uint x) => BitOperations.RotateRight(x, 7) ^ BitOperations.RotateRight(x, 18) ^ (x >> 3);

    internal static uint SmallSigma1(uint x) => BitOperations.RotateRight(x, 17) ^ BitOperations.RotateRight(x, 19) ^ (x >> 10);

    internal static uint Choose(uint e, uint f, uint g) => g ^ (e & (f ^ g));

    internal static uint Majority(uint a, uint b, uint c) => (a & b) | (c & (a | b));
}
