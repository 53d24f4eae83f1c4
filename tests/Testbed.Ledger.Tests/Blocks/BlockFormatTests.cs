namespace Testbed.Ledger.Tests.Blocks;

public sealed class BlockFormatTests
{
    private static readonly Wallet Miner = Wallet.CreateEphemeral();

    [Fact]
    public void Header_is_160_big_endian_bytes_at_the_documented_offsets()
    {
        var header = new BlockHeader(1, 0x0102030405060708, Hash256.Of("p"u8), 0x1122334455667788, 0x0A0B0C0D, Hash256.Of("t"u8), Hash256.Of("s"u8), Hash256.Of("m"u8), 0xA1A2A3A4A5A6A7A8);
        var bytes = header.ToBytes();
        Assert.Equal(160, bytes.Length);
        Assert.Equal(Convert.FromHexString("00000001"), bytes[0..4]);
        Assert.Equal(Convert.FromHexString("0102030405060708"), bytes[4..12]);
        Assert.Equal(SHA256.HashData("p"u8), bytes[12..44]);
        Assert.Equal(Convert.FromHexString("1122334455667788"), bytes[44..52]);
        Assert.Equal(Convert.FromHexString("0A0B0C0D"), bytes[52..56]);
        Assert.Equal(SHA256.HashData("t"u8), bytes[56..88]);
        Assert.Equal(SHA256.HashData("s"u8), bytes[88..120]);
        Assert.Equal(SHA256.HashData("m"u8), bytes[120..152]);
        Assert.Equal(Convert.FromHexString("A1A2A3A4A5A6A7A8"), bytes[152..160]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), header.ComputeHash().ToString());
        Assert.Equal(header, BlockHeader.Read(bytes));
    }

    [Property(MaxTest = 200)]
    public bool Header_round_trips(ulong height, long timestamp, uint bits, ulong nonce, int seed)
    {
        var h = new BlockHeader(1, height, Hash256.Of(BitConverter.GetBytes(seed)), timestamp, bits, Hash256.Of(BitConverter.GetBytes(seed + 1)), Hash256.Of(BitConverter.GetBytes(seed + 2)), Hash256.Of(BitConverter.GetBytes(seed + 3)), nonce);
        return BlockHeader.Read(h.ToBytes()) == h && h.ComputeHash() == Hash256.Of(h.ToBytes());
    }

    [Property(MaxTest = 100)]
    public bool Transactions_root_commits_to_content_and_order(string[] tokens)
    {
        var ascii = (tokens ?? []).Where(t => t is not null).Select(t => new string(t.Where(char.IsAscii).ToArray())).ToArray();
        var root = TransactionsRoot.Compute(ascii);
        var swapped = ascii.Length >= 2 && ascii[0] != ascii[1] ? TransactionsRoot.Compute([ascii[1], ascii[0], .. ascii[2..]]) : (Hash256?)null;
        var extended = TransactionsRoot.Compute([.. ascii, "x"]);
        return root != extended && (swapped is null || swapped != root) && root == TransactionsRoot.Compute(ascii);
    }

    [Fact]
    public void Block_is_an_es256_jws_whose_payload_carries_the_header_and_whose_work_is_checkable_alone()
    {
        using var test = new TestChain(peer: "format");
        var block = test.MineAndAdd(Miner, Forge.Vote(Miner, 0, "P9"));
        var parts = block.Token.Split('.');
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
        Assert.Equal("ES256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal(Miner.Address, header.RootElement.GetProperty("kid").GetString());
        Assert.Equal("EC", header.RootElement.GetProperty("jwk").GetProperty("kty").GetString());

        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        var p = payload.RootElement;
        var rebuilt = new BlockHeader(
            p.GetProperty("version").GetUInt32(), p.GetProperty("height").GetUInt64(), Hash256.Parse(p.GetProperty("prev_hash").GetString()!),
            p.GetProperty("timestamp").GetInt64(), p.GetProperty("difficulty").GetUInt32(), Hash256.Parse(p.GetProperty("transactions_root").GetString()!),
            Hash256.Parse(p.GetProperty("state_root").GetString()!), Hash256.Parse(p.GetProperty("miner").GetString()!), p.GetProperty("nonce").GetUInt64());
        var hash = SHA256.HashData(rebuilt.ToBytes());
        Assert.Equal(block.Hash.ToString(), Convert.ToHexStringLower(hash));
        Assert.True(ProofOfWorkSearch.LeadingZeroBits(hash) >= (int)rebuilt.DifficultyBits);
        Assert.Equal(1, p.GetProperty("transactions").GetArrayLength());
        Assert.Equal(Miner.Address, p.GetProperty("miner").GetString());
    }

    [Fact]
    public async Task Blocks_validate_with_the_standard_jwt_library_too()
    {
        using var test = new TestChain(peer: "library");
        var block = test.MineAndAdd(Miner);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(block.Token, new TokenValidationParameters
        {
            IssuerSigningKey = Miner.SecurityKey,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            ValidateAudience = false,
            ValidateIssuer = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
        });
        Assert.True(result.IsValid, result.Exception?.Message);
    }

    /// <summary>Changing any one character of a valid block never yields a different accepted block.</summary>
    [Property(MaxTest = 150)]
    public bool A_tampered_block_is_refused_or_identical(ushort position, char replacement)
    {
        var header = new BlockHeader(1, 1, Hash256.Of("g"u8), 1000, 2, TransactionsRoot.Compute([]), Hash256.Of("s"u8), Miner.PublicKey.Address, 0);
        var block = Forge.Seal(header, [], Miner);
        var index = position % block.Token.Length;
        var tampered = block.Token[..index] + replacement + block.Token[(index + 1)..];
        try
        {
            return Block.Verify(tampered, 1 << 20, 16).Hash == block.Hash;
        }
        catch (BlockRejectedException)
        {
            return true;
        }
    }

    [Fact]
    public void Signing_happens_once_per_block_and_emits_block_sign()
    {
        using var spans = new SpanRecorder();
        var header = new BlockHeader(1, 1, Hash256.Of("g"u8), 1000, 2, TransactionsRoot.Compute([]), Hash256.Of("s"u8), Miner.PublicKey.Address, 0);
        var block = Forge.Seal(header, [], Miner);
        var sign = spans.Spans.Where(a => a.OperationName == "block.sign" && (string?)a.GetTagItem("block.hash") == block.Hash.ToString()).ToList();
        Assert.Single(sign);
        Assert.Equal("ES256", sign[0].GetTagItem("jwt.alg"));

        Block.Verify(block.Token, 1 << 20, 16, "verifier");
        foreach (var name in new[] { "block.verify.signature", "block.verify.pow", "block.verify.transactions" })
        {
            var span = Assert.Single(spans.For("verifier", name));
            Assert.Equal("ok", span.GetTagItem("result"));
            Assert.Equal(block.Hash.ToString(), span.GetTagItem("block.hash"));
        }

    }
}
