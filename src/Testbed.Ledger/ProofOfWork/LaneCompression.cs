using System.Buffers.Binary;

namespace Testbed.Ledger.ProofOfWork;

/// <summary>The full SHA-256 compression over independent lanes, and whole-message hashing of one message per lane.</summary>
internal static class LaneCompression<TLanes, TVec>
    where TLanes : struct, ISha256Lanes<TVec>
    where TVec : struct
{
    /// <summary>Compresses every lane: <paramref name="state"/> holds 8 words, <paramref name="w"/> 64 with the first 16 loaded.</summary>
    public static void Compress(Span<TVec> state, Span<TVec> w)
    {
        for (var t = 16; t < 64; t++)
        {
            w[t] = TLanes.Add(
                TLanes.Add(TLanes.SmallSigma1(w[t - 2]), w[t - 7]),
                TLanes.Add(TLanes.SmallSigma0(w[t - 15]), w[t - 16]));
        }

        var a = state[0];
        var b = state[1];
        var c = state[2];
        var d = state[3];
        var e = state[4];
        var f = state[5];
        var g = state[6];
        var h = state[7];
        for (var t = 0; t < 64; t++)
        {
            var kwt = TLanes.Add(TLanes.Broadcast(Sha256Scalar.RoundConstants[t]), w[t]);
            var t1 = TLanes.Add(TLanes.Add(h, TLanes.BigSigma1(e)), TLanes.Add(TLanes.Choose(e, f, g), kwt));
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

        state[0] = TLanes.Add(state[0], a);
        state[1] = TLanes.Add(state[1], b);
        state[2] = TLanes.Add(state[2], c);
        state[3] = TLanes.Add(state[3], d);
        state[4] = TLanes.Add(state[4], e);
        state[5] = TLanes.Add(state[5], f);
        state[6] = TLanes.Add(state[6], g);
        state[7] = TLanes.Add(state[7], h);
    }

    /// <summary>SHA-256 of each message, hashing up to <c>TLanes.Count</c> messages side by side.</summary>
    public static byte[][] HashMany(IReadOnlyList<byte[]> messages)
    {
        var hashes = new byte[messages.Count][];
        var lanes = TLanes.Count;
        var state = new TVec[8];
        var w = new TVec[64];
        var laneWords = new uint[lanes];
        var states = new uint[lanes * 8];
        for (var group = 0; group < messages.Count; group += lanes)
        {
            var members = Math.Min(lanes, messages.Count - group);
            var padded = new byte[members][];
            var blocks = 0;
            for (var lane = 0; lane < members; lane++)
            {
                padded[lane] = Pad(messages[group + lane]);
                blocks = Math.Max(blocks, padded[lane].Length / Sha256Scalar.BlockSize);
                Sha256Scalar.InitialState.CopyTo(states.AsSpan(8 * lane, 8));
            }

            for (var block = 0; block < blocks; block++)
            {
                // Lanes whose message is shorter compress zeros and keep their finished state.
                for (var i = 0; i < 8; i++)
                {
                    for (var lane = 0; lane < lanes; lane++)
                    {
                        laneWords[lane] = lane < members ? states[(8 * lane) + i] : 0;
                    }

                    state[i] = TLanes.Load(laneWords);
                }

                for (var t = 0; t < 16; t++)
                {
                    for (var lane = 0; lane < lanes; lane++)
                    {
                        var offset = (block * Sha256Scalar.BlockSize) + (4 * t);
                        laneWords[lane] = lane < members && offset < padded[lane].Length
                            ? BinaryPrimitives.ReadUInt32BigEndian(padded[lane].AsSpan(offset))
                            : 0;
                    }

                    w[t] = TLanes.Load(laneWords);
                }

                Compress(state, w);
                for (var i = 0; i < 8; i++)
                {
                    TLanes.Store(state[i], laneWords);
                    for (var lane = 0; lane < members; lane++)
                    {
                        if (block < padded[lane].Length / Sha256Scalar.BlockSize)
                        {
                            states[(8 * lane) + i] = laneWords[lane];
                        }
                    }
                }
            }

            for (var lane = 0; lane < members; lane++)
            {
                var hash = new byte[Sha256Scalar.HashSize];
                Sha256Scalar.WriteHash(states.AsSpan(8 * lane, 8), hash);
                hashes[group + lane] = hash;
            }
        }

        return hashes;
    }

    private static byte[] Pad(byte[] message)
    {
        var full = message.Length / Sha256Scalar.BlockSize * Sha256Scalar.BlockSize;
        Span<byte> tail = stackalloc byte[2 * Sha256Scalar.BlockSize];
        var tailLength = Sha256Scalar.PadTail(message.AsSpan(full), (ulong)message.Length, tail);
        var padded = new byte[full + tailLength];
        message.AsSpan(0, full).CopyTo(padded);
        tail[..tailLength].CopyTo(padded.AsSpan(full));
        return padded;
    }
}
