using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Testbed.Ledger.ProofOfWork;

/// <summary>
/// One SHA-256 compression per nonce, two interleaved batches of <typeparamref name="TLanes"/> nonces at once: a
/// round's dependency chain, not the vector units, is the bottleneck of one batch, so a second independent
/// batch fills the idle issue slots. Per epoch (all nonces that share every byte outside the varying word) it
/// precomputes, once: the rounds before the varying word and round k itself but for W[k], the schedule words and
/// terms that don't depend on the nonce, and K[t] + W[t] for the fixed words. The per-batch methods are compiled fully
/// optimised on first call: at tier 0 every lane operation is a call, which made a process's first searches (a
/// peer's first blocks, a bench's first round) run several times slower until tiering caught up.
/// </summary>
internal sealed class NonceKernel<TLanes, TVec> : INonceBatcher
    where TLanes : struct, ISha256Lanes<TVec>
    where TVec : struct
{
    private readonly PreparedHeader _header;
    private readonly FinalBlockSchedule _schedule;
    private readonly AlignedVectors<TVec> _w0 = new(64);
    private readonly AlignedVectors<TVec> _w1 = new(64);
    private readonly AlignedVectors<TVec> _kw0 = new(64);
    private readonly AlignedVectors<TVec> _kw1 = new(64);
    private readonly AlignedVectors<TVec> _constants = new(64);
    private readonly AlignedVectors<TVec> _roundConstants = new(64);
    private readonly AlignedVectors<TVec> _start = new(8);
    private readonly AlignedVectors<TVec> _final0 = new(8);
    private readonly AlignedVectors<TVec> _final1 = new(8);
    private readonly TVec _laneOffsets;
    private readonly TVec _secondBatchOffset;
    private readonly TVec _firstHashWord;
    private ulong _epoch;
    private bool _hasEpoch;
    private uint _varyingWordBase;

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

        _header = header;
        _schedule = new FinalBlockSchedule(header.VaryingWord);
        Span<uint> offsets = stackalloc uint[TLanes.Count];
        for (var lane = 0; lane < offsets.Length; lane++)
        {
            offsets[lane] = (uint)lane << header.NonceShift;
        }

        _laneOffsets = TLanes.Load(offsets);
        _secondBatchOffset = TLanes.Broadcast((uint)TLanes.Count << header.NonceShift);
        _firstHashWord = TLanes.Broadcast(header.Midstate[0]);
        for (var t = 0; t < 64; t++)
        {
            _roundConstants[t] = TLanes.Broadcast(Sha256Scalar.RoundConstants[t]);
        }
    }

    public int Lanes => 2 * TLanes.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public uint Candidates(ulong first, uint zeroBits)
    {
        Run(first);
        return TLanes.ZeroLanes(TLanes.Add(_final0[0], _firstHashWord), zeroBits)
            | (TLanes.ZeroLanes(TLanes.Add(_final1[0], _firstHashWord), zeroBits) << TLanes.Count);
    }

    public void Hashes(ulong first, Span<uint> words)
    {
        Run(first);
        Span<uint> lanes = stackalloc uint[TLanes.Count];
        for (var batch = 0; batch < 2; batch++)
        {
            var final = batch == 0 ? _final0 : _final1;
            for (var i = 0; i < 8; i++)
            {
                TLanes.Store(TLanes.Add(final[i], TLanes.Broadcast(_header.Midstate[i])), lanes);
                for (var lane = 0; lane < lanes.Length; lane++)
                {
                    words[(8 * ((batch * TLanes.Count) + lane)) + i] = lanes[lane];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(ulong first)
    {
        if ((first % (ulong)Lanes) != 0)
        {
            throw new ArgumentException("A batch starts at a multiple of the lane count.", nameof(first));
        }

        var lowBits = _header.LowBits;
        var nonceEpoch = first >> lowBits;
        if (!_hasEpoch || nonceEpoch != _epoch)
        {
            PrepareEpoch(nonceEpoch);
        }

        // An epoch holds at least 256 nonces and batches are aligned, so no lane carries out of the varying word.
        var low = (uint)(first & ((1UL << lowBits) - 1));
        var varying = TLanes.Add(TLanes.Broadcast(_varyingWordBase | (low << _header.NonceShift)), _laneOffsets);
        Compress(varying, TLanes.Add(varying, _secondBatchOffset));
    }

    /// <summary>Precomputes everything that is the same for every nonce of the epoch.</summary>
    private void PrepareEpoch(ulong nonceEpoch)
    {
        var k = _schedule.VaryingWord;
        Span<byte> block = stackalloc byte[Sha256Scalar.BlockSize];
        _header.Tail.CopyTo(block);
        BinaryPrimitives.WriteUInt64BigEndian(block[_header.NonceOffset..], nonceEpoch << _header.LowBits);
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
                _constants[t] = TLanes.Broadcast(sum);
            }
        }

        for (var t = k; t < 64; t++)
        {
            if (Fixed(t))
            {
                _kw0[t] = _kw1[t] = TLanes.Broadcast(Sha256Scalar.RoundConstants[t] + words[t]);
            }
        }

        // The rounds before the varying word are identical for every lane, and so is round k but for W[k], which only
        // adds to t1 and so to the new a and e: run round k without it, and each batch adds its W[k] to a and e.
        Span<uint> s = stackalloc uint[8];
        _header.Midstate.CopyTo(s);
        for (var t = 0; t <= k; t++)
        {
            var t1 = s[7] + Sha256Scalar.BigSigma1(s[4]) + Sha256Scalar.Choose(s[4], s[5], s[6]) + Sha256Scalar.RoundConstants[t] + (t < k ? words[t] : 0);
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
            _start[i] = TLanes.Broadcast(s[i]);
        }

        _varyingWordBase = words[k];
        _epoch = nonceEpoch;
        _hasEpoch = true;

        bool Fixed(int t) => !_schedule.IsVarying(t);
    }

    /// <summary>For both batches: the nonce-dependent schedule words, then rounds k+1..63 from the precomputed state.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Compress(TVec varying0, TVec varying1)
    {
        ref var w0Ref = ref _w0.First;
        ref var w1Ref = ref _w1.First;
        ref var kw0Ref = ref _kw0.First;
        ref var kw1Ref = ref _kw1.First;
        ref var cRef = ref _constants.First;
        ref var kRef = ref _roundConstants.First;
        var k = _schedule.VaryingWord;
        Unsafe.Add(ref w0Ref, k) = varying0;
        Unsafe.Add(ref w1Ref, k) = varying1;
        foreach (var entry in _schedule.Plan)
        {
            var t = entry & 0xFF;
            var flags = entry >> 8;
            var v0 = Unsafe.Add(ref cRef, t);
            var v1 = v0;
            if ((flags & FinalBlockSchedule.Sigma1Term) != 0)
            {
                v0 = TLanes.Add(v0, TLanes.SmallSigma1(Unsafe.Add(ref w0Ref, t - 2)));
                v1 = TLanes.Add(v1, TLanes.SmallSigma1(Unsafe.Add(ref w1Ref, t - 2)));
            }

            if ((flags & FinalBlockSchedule.Minus7Term) != 0)
            {
                v0 = TLanes.Add(v0, Unsafe.Add(ref w0Ref, t - 7));
                v1 = TLanes.Add(v1, Unsafe.Add(ref w1Ref, t - 7));
            }

            if ((flags & FinalBlockSchedule.Sigma0Term) != 0)
            {
                v0 = TLanes.Add(v0, TLanes.SmallSigma0(Unsafe.Add(ref w0Ref, t - 15)));
                v1 = TLanes.Add(v1, TLanes.SmallSigma0(Unsafe.Add(ref w1Ref, t - 15)));
            }

            if ((flags & FinalBlockSchedule.Minus16Term) != 0)
            {
                v0 = TLanes.Add(v0, Unsafe.Add(ref w0Ref, t - 16));
                v1 = TLanes.Add(v1, Unsafe.Add(ref w1Ref, t - 16));
            }

            Unsafe.Add(ref w0Ref, t) = v0;
            Unsafe.Add(ref w1Ref, t) = v1;
            var kt = Unsafe.Add(ref kRef, t);
            Unsafe.Add(ref kw0Ref, t) = TLanes.Add(v0, kt);
            Unsafe.Add(ref kw1Ref, t) = TLanes.Add(v1, kt);
        }

        var a0 = TLanes.Add(_start[0], varying0);
        var b0 = _start[1];
        var c0 = _start[2];
        var d0 = _start[3];
        var e0 = TLanes.Add(_start[4], varying0);
        var f0 = _start[5];
        var g0 = _start[6];
        var h0 = _start[7];
        var a1 = TLanes.Add(_start[0], varying1);
        var b1 = b0;
        var c1 = c0;
        var d1 = d0;
        var e1 = TLanes.Add(_start[4], varying1);
        var f1 = f0;
        var g1 = g0;
        var h1 = h0;
        // h + K + W is ready rounds ahead, so the critical path from e is Σ1 (rotate, ternlog) and two adds.
        for (var t = k + 1; t < 64; t++)
        {
            var t10 = TLanes.Add(TLanes.Add(TLanes.Add(h0, Unsafe.Add(ref kw0Ref, t)), TLanes.Choose(e0, f0, g0)), TLanes.BigSigma1(e0));
            var t11 = TLanes.Add(TLanes.Add(TLanes.Add(h1, Unsafe.Add(ref kw1Ref, t)), TLanes.Choose(e1, f1, g1)), TLanes.BigSigma1(e1));
            var t20 = TLanes.Add(TLanes.BigSigma0(a0), TLanes.Majority(a0, b0, c0));
            var t21 = TLanes.Add(TLanes.BigSigma0(a1), TLanes.Majority(a1, b1, c1));
            h0 = g0;
            h1 = g1;
            g0 = f0;
            g1 = f1;
            f0 = e0;
            f1 = e1;
            e0 = TLanes.Add(d0, t10);
            e1 = TLanes.Add(d1, t11);
            d0 = c0;
            d1 = c1;
            c0 = b0;
            c1 = b1;
            b0 = a0;
            b1 = a1;
            a0 = TLanes.Add(t10, t20);
            a1 = TLanes.Add(t11, t21);
        }

        _final0[0] = a0;
        _final0[1] = b0;
        _final0[2] = c0;
        _final0[3] = d0;
        _final0[4] = e0;
        _final0[5] = f0;
        _final0[6] = g0;
        _final0[7] = h0;
        _final1[0] = a1;
        _final1[1] = b1;
        _final1[2] = c1;
        _final1[3] = d1;
        _final1[4] = e1;
        _final1[5] = f1;
        _final1[6] = g1;
        _final1[7] = h1;
    }
}
