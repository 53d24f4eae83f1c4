using FsCheck;

namespace Testbed.Ledger.Tests.ProofOfWork;

/// <summary>The scalar and every vector SHA-256 kernel against the NIST test vectors and .NET's SHA256.</summary>
public sealed class Sha256VectorTests
{
    /// <summary>FIPS 180-2 appendix B / NIST CAVS examples: message and expected digest.</summary>
    public static TheoryData<string, string> NistVectors => new()
    {
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        {
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        },
    };

    public static TheoryData<Sha256Kernel> Kernels
    {
        get
        {
            var data = new TheoryData<Sha256Kernel>();
            foreach (var kernel in Sha256Kernels.Supported)
            {
                data.Add(kernel);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(NistVectors))]
    public void Scalar_hash_matches_the_nist_vector(string message, string expected)
    {
        Assert.Equal(expected, Convert.ToHexStringLower(Sha256Scalar.HashData(Encoding.ASCII.GetBytes(message))));
        Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(message))));
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Every_kernel_matches_the_nist_vectors_side_by_side(Sha256Kernel kernel)
    {
        var vectors = NistVectors.Select(row => ((string)row[0], (string)row[1])).ToArray();

        // Repeat the vectors so every lane of the widest kernel carries one, in different lane positions.
        var messages = Enumerable.Range(0, 21).Select(i => Encoding.ASCII.GetBytes(vectors[i % vectors.Length].Item1)).ToArray();
        var hashes = Sha256Kernels.HashMany(kernel, messages);

        for (var i = 0; i < messages.Length; i++)
        {
            Assert.Equal(vectors[i % vectors.Length].Item2, Convert.ToHexStringLower(hashes[i]));
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Every_kernel_matches_the_million_a_vector(Sha256Kernel kernel)
    {
        const string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
        var million = new byte[1_000_000];
        Array.Fill(million, (byte)'a');

        // The long message shares the batch with short ones, so lanes finish at different blocks.
        var hashes = Sha256Kernels.HashMany(kernel, [million, "abc"u8.ToArray()]);

        Assert.Equal(expected, Convert.ToHexStringLower(hashes[0]));
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Convert.ToHexStringLower(hashes[1]));
        Assert.Equal(expected, Convert.ToHexStringLower(Sha256Scalar.HashData(million)));
    }

    [Property(MaxTest = 60)]
    public void Vector_scalar_and_dotnet_hashes_agree_on_random_messages(byte[][] messages)
    {
        var inputs = messages.Where(m => m is not null).Take(40).ToArray();
        var expected = inputs.Select(SHA256.HashData).ToArray();

        Assert.Equal(expected, inputs.Select(m => Sha256Scalar.HashData(m)).ToArray());
        foreach (var kernel in Sha256Kernels.Supported)
        {
            Assert.Equal(expected, Sha256Kernels.HashMany(kernel, inputs));
        }
    }

    [Property(MaxTest = 40)]
    public void Compression_with_a_random_state_matches_hashing_the_padded_message(NonEmptyArray<byte> data)
    {
        // Chaining Compress block by block over a padded message is exactly SHA-256.
        var message = data.Get;
        var padded = new byte[((message.Length + 9 + 63) / 64) * 64];
        message.CopyTo(padded, 0);
        padded[message.Length] = 0x80;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(padded.AsSpan(padded.Length - 8), (ulong)message.Length * 8);
        Span<uint> state = stackalloc uint[8];
        Sha256Scalar.InitialState.CopyTo(state);
        for (var offset = 0; offset < padded.Length; offset += 64)
        {
            Sha256Scalar.Compress(state, padded.AsSpan(offset, 64));
        }

        var hash = new byte[32];
        for (var i = 0; i < 8; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(hash.AsSpan(4 * i), state[i]);
        }

        Assert.Equal(SHA256.HashData(message), hash);
    }

    [Fact]
    public void The_widest_kernel_the_cpu_offers_is_the_default()
    {
        Assert.Contains(Sha256Kernel.Scalar, Sha256Kernels.Supported);
        Assert.True(Sha256Kernels.IsSupported(Sha256Kernels.Best));
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated || !Sha256Kernels.IsSupported(Sha256Kernel.Vector512Avx512))
        {
            Assert.Equal(Sha256Kernels.Supported.Max(Sha256Kernels.Lanes), Sha256Kernels.Lanes(Sha256Kernels.Best));
        }
    }
}
