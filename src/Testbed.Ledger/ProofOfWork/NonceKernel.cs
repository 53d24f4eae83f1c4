using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Testbed.Ledger.ProofOfWork;

/// <summary>
/// One SHA-256 compression per nonce, <typeparamref name="TLanes"/> nonces at once. Per epoch (all nonces that
/// share every byte outside the varying word) it precomputes, once: the rounds before the varying word, the
/// schedule words and terms that don't depend on the nonce, and K[t] + W[t] for the fixed words.
/// </summary>
internal sealed class NonceKernel<TLanes, TVec> : INonceBatcher
    where TLanes : struct, ISha256Lanes<TVec>
    where TVec : struct
{
    private readonly PreparedHeader header;
    private readonly FinalBlockSchedule schedule;
    private readonly TVec[] w = new TVec[64];
    private readonly TVec[] kw = new TVec[64];
    private readonly TVec[] constants = new TVec[64];
    private readonly TVec[] roundConstants = new TVec[64];
    private readonly TVec[] start = new TVec[8];
    private readonly TVec[] final = new TVec[8];
    private readonly TVec laneOffsets;
    private readonly TVec firstHashWord;
    private ulong epoch;
    private bool hasEpoch;
    private uint varyingWordBase;

    public NonceKernel(PreparedHeader header)
    {
        if (!header.SingleFinalBlock)
        {
            throw new ArgumentException("The nonce and padding must fit in the final block (header length mod 64 in 8..55).", nameof(header));
        }

        if (!TLanes.IsSupported)
        {
            throw new PlatformNotSupportedException($"{typeof(TLanes).Name} needs an instruction set this CPU lacks.");
        }

        this.header = header;
        schedule = new FinalBlockSchedule(header.VaryingWord);
        Span<uint> offsets = stackalloc uint[TLanes.Count];
        for (var lane = 0; lane < offsets.Length; lane++)
        {
            offsets[lane] = (uint)lane << header.NonceShift;
        }

        laneOffsets = TLanes.Load(offsets);
        firstHashWord = TLanes.Broadcast(header.Midstate[0]);
        for (var t = 0; t < 64; t++)
        {
            roundConstants[t] = TLanes.Broadcast(Sha256Scalar.RoundConstants[t]);
        }
    }

    public int Lanes => TLanes.Count;

    public uint Candidates(ulong first, uint zeroBits)
    {
        Run(first);
        return TLanes.ZeroLanes(TLanes.Add(final[0], firstHashWord), zeroBits);
    }

    public void Hashes(ulong first, Span<uint> words)
    {
        Run(first);
        Span<uint> lanes = stackalloc uint[TLanes.Count];
        for (var i = 0; i < 8; i++)
        {
            TLanes.Store(TLanes.Add(final[i], TLanes.Broadcast(header.Midstate[i])), lanes);
            for (var lane = 0; lane < lanes.Length; lane++)
            {
                words[(8 * lane) + i] = lanes[lane];
            }
        }
    }

    private void Run(ulong first)
    {
        if ((first % (ulong)TLanes.Count) != 0)
        {
            throw new ArgumentException("A batch starts at a multiple of the lane count.", nameof(first));
        }

        var lowBits = header.LowBits;
        var nonceEpoch = first >> lowBits;
        if (!hasEpoch || nonceEpoch != epoch)
        {
            PrepareEpoch(nonceEpoch);
        }

        var low = (uint)(first & ((1UL << lowBits) - 1));
        Compress(TLanes.Add(TLanes.Broadcast(varyingWordBase | (low << header.NonceShift)), laneOffsets));
    }

    /// <summary>Precomputes everything that is the same for every nonce of the epoch.</summary>
    private void PrepareEpoch(ulong nonceEpoch)
    {
        var k = schedule.VaryingWord;
        Span<byte> block = stackalloc byte[Sha256Scalar.BlockSize];
        header.Tail.CopyTo(block);
        BinaryPrimitives.WriteUInt64BigEndian(block[header.NonceOffset..], nonceEpoch << header.LowBits);
        Span<uint> words = stackalloc uint[64];
        for (var t = 0; t < 16; t++)
        {
            words[t] = BinaryPrimitives.ReadUInt32BigEndian(block[(4 * t)..]);
        }

        for (var t = 16; t < 64; t++)
        {
            var sum = Fixed(t - 2) ? Sha256Scalar.SmallSigma1(words[t - 2]) : 0;
            sum += Fixed(t - 7) ? words[t - 7] : 0;
            sum += Fixed(t - 15) ? Sha256Scalar.SmallSigma0(words[t - 15]) : 0;
            sum += Fixed(t - 16) ? words[t - 16] : 0;
            if (Fixed(t))
            {
                words[t] = sum;
            }
            else
            {
                constants[t] = TLanes.Broadcast(sum);
            }
        }

        for (var t = k; t < 64; t++)
        {
            if (Fixed(t))
            {
                kw[t] = TLanes.Broadcast(Sha256Scalar.RoundConstants[t] + words[t]);
            }
        }

        // The rounds before the varying word are identical for every lane.
        Span<uint> s = stackalloc uint[8];
        header.Midstate.CopyTo(s);
        for (var t = 0; t < k; t++)
        {
            var t1 = s[7] + Sha256Scalar.BigSigma1(s[4]) + Sha256Scalar.Choose(s[4], s[5], s[6]) + Sha256Scalar.RoundConstants[t] + words[t];
            var t2 = Sha256Scalar.BigSigma0(s[0]) + Sha256Scalar.Majority(s[0], s[1], s[2]);
            s[7] = s[6];
            s[6] = s[5];
            s[5] = s[4];
            s[4] = s[3] + t1;
            s[3] = s[2];
            s[2] = s[1];
            s[1] = s[0];
            s[0] = t1 + t2;
        }

        for (var i = 0; i < 8; i++)
        {
            start[i] = TLanes.Broadcast(s[i]);
        }

        varyingWordBase = words[k];
        epoch = nonceEpoch;
        hasEpoch = true;

        bool Fixed(int t) => !schedule.IsVarying(t);
    }

    /// <summary>The nonce-dependent schedule words, then rounds k..63 from the precomputed state.</summary>
    private void Compress(TVec varyingWord)
    {
        ref var wRef = ref MemoryMarshal.GetArrayDataReference(w);
        ref var kwRef = ref MemoryMarshal.GetArrayDataReference(kw);
        ref var cRef = ref MemoryMarshal.GetArrayDataReference(constants);
        ref var kRef = ref MemoryMarshal.GetArrayDataReference(roundConstants);
        var k = schedule.VaryingWord;
        Unsafe.Add(ref wRef, k) = varyingWord;
        Unsafe.Add(ref kwRef, k) = TLanes.Add(varyingWord, Unsafe.Add(ref kRef, k));
        foreach (var entry in schedule.Plan)
        {
            var t = entry & 0xFF;
            var flags = entry >> 8;
            var v = Unsafe.Add(ref cRef, t);
            if ((flags & FinalBlockSchedule.Sigma1Term) != 0)
            {
                v = TLanes.Add(v, TLanes.SmallSigma1(Unsafe.Add(ref wRef, t - 2)));
            }

            if ((flags & FinalBlockSchedule.Minus7Term) != 0)
            {
                v = TLanes.Add(v, Unsafe.Add(ref wRef, t - 7));
            }

            if ((flags & FinalBlockSchedule.Sigma0Term) != 0)
            {
                v = TLanes.Add(v, TLanes.SmallSigma0(Unsafe.Add(ref wRef, t - 15)));
            }

            if ((flags & FinalBlockSchedule.Minus16Term) != 0)
            {
                v = TLanes.Add(v, Unsafe.Add(ref wRef, t - 16));
            }

            Unsafe.Add(ref wRef, t) = v;
            Unsafe.Add(ref kwRef, t) = TLanes.Add(v, Unsafe.Add(ref kRef, t));
        }

        var a = start[0];
        var b = start[1];
        var c = start[2];
        var d = start[3];
        var e = start[4];
        var f = start[5];
        var g = start[6];
        var h = start[7];
        for (var t = k; t < 64; t++)
        {
            var t1 = TLanes.Add(TLanes.Add(h, TLanes.BigSigma1(e)), TLanes.Add(TLanes.Choose(e, f, g), Unsafe.Add(ref kwRef, t)));
            var t2 = TLanes.Add(TLanes.BigSigma0(a), TLanes.Majority(a, b, c));
            h = g;
            g = f;
            f = e;
            e = TLanes.Add(d, t1);
            d = c;
            c = b;
            b = a;
            a = TLanes.Add(t1, t2);
        }

        final[0] = a;
        final[1] = b;
        final[2] = c;
        final[3] = d;
        final[4] = e;
        final[5] = f;
        final[6] = g;
        final[7] = h;
    }
}
