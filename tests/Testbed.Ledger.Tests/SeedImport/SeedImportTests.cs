using Testbed.Ledger.SeedImport;
using Testbed.Processes;

namespace Testbed.Ledger.Tests.SeedImport;

/// <summary>
/// Seed import against the fixture chain made with the seed's own libraries (PyJWT, python-rsa) by
/// tests/Shared/Fixtures/seed-chain/make_seed_chain.py, and against copies tampered in each way.
/// </summary>
public sealed class SeedImportTests
{
    private static readonly string[] FixtureLines = File.ReadAllLines(Path.Combine(SeedForge.Fixture, "blocks.txt"));

    [Fact]
    public void Fixture_chain_is_accepted_and_reaches_the_seeds_final_state()
    {
        using var key = SeedForge.LoadKey("peer1.pub.pem");
        var result = SeedChainImporter.Import(FixtureLines, key, SeedForge.Secret, 2);
        Assert.Equal(4, result.Blocks);
        Assert.Equal(4, result.Accepted);
        Assert.Null(result.FirstRejected);
        using var state = JsonDocument.Parse(result.StateJson);
        var s = state.RootElement;
        Assert.Equal("John Doe", s.GetProperty("students").GetProperty("S001").GetProperty("name").GetString());
        Assert.Equal("Blockchain Technology", s.GetProperty("courses").GetProperty("C001").GetProperty("name").GetString());
        Assert.Equal(1, s.GetProperty("proposals").GetProperty("P001").GetProperty("votes").GetInt32());
        Assert.Equal("Alice", s.GetProperty("nfts").GetProperty("NFT001").GetProperty("metadata").GetProperty("artist").GetString());
        Assert.Matches("^[0-9a-f]{64}$", result.StateRoot);

        // The chain's own record of its block hashes agrees with sha256(token).
        using var chain = JsonDocument.Parse(File.ReadAllText(Path.Combine(SeedForge.Fixture, "chain.json")));
        var hashes = chain.RootElement.GetProperty("block_hashes").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(hashes, FixtureLines.Select(l => SeedForge.HashOf(SeedForge.TokenOf(l))).ToList());
    }

    [Fact]
    public void Wrong_signer_is_refused_at_block_zero()
    {
        using var key = SeedForge.LoadKey("peer2.pub.pem");
        var result = SeedChainImporter.Import(FixtureLines, key, SeedForge.Secret, 2);
        Assert.Equal(new SeedRejection(0, "signature", result.FirstRejected!.Detail), result.FirstRejected);
        Assert.Equal(0, result.Accepted);
    }

    public static TheoryData<string, int, string> Tampering() => new()
    {
        { "token-byte", 1, "signature" },
        { "signature-byte", 2, "signature" },
        { "wrong-secret", 2, "jwt" },
        { "alg-none", 3, "jwt" },
        { "link", 2, "link" },
        { "pow", 1, "pow" },
        { "not-json", 3, "malformed" },
        { "no-signature", 0, "malformed" },
        { "payload-shape", 2, "malformed" },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public void Tampered_chain_stops_at_the_tampered_block_with_its_reason(string how, int index, string reason)
    {
        using var priv = SeedForge.LoadKey("peer1.key.pem");
        using var pub = SeedForge.LoadKey("peer1.pub.pem");
        var lines = Tamper(FixtureLines, how, index, priv);

        var result = SeedChainImporter.Import(lines, pub, SeedForge.Secret, 2);
        Assert.Equal(lines.Length, result.Blocks);
        Assert.Equal(index, result.Accepted);
        Assert.NotNull(result.FirstRejected);
        Assert.Equal(index, result.FirstRejected.Index);
        Assert.Equal(reason, result.FirstRejected.Reason);

        // The state is the replay of exactly the blocks before the tampered one.
        var prefix = SeedChainImporter.Import(FixtureLines[..index], pub, SeedForge.Secret, 2);
        Assert.Equal(prefix.StateRoot, result.StateRoot);
        Assert.Equal(prefix.StateJson, result.StateJson);
    }

    /// <summary>Changes one byte of a token, a signature, a link or the work, the ways the issue names.</summary>
    internal static string[] Tamper(string[] original, string how, int index, System.Security.Cryptography.RSA key)
    {
        var lines = (string[])original.Clone();
        var token = SeedForge.TokenOf(lines[index]);
        var previous = index == 0 ? new string('0', 64) : SeedForge.HashOf(SeedForge.TokenOf(lines[index - 1]));
        using var doc = JsonDocument.Parse(lines[index]);
        var signature = doc.RootElement.GetProperty("signature").GetString()!;
        switch (how)
        {
            case "token-byte":
                var i = token.IndexOf('.', StringComparison.Ordinal) + 5;
                var changed = token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
                lines[index] = JsonSerializer.Serialize(new { token = changed, signature });
                break;
            case "signature-byte":
                var flipped = signature[..10] + (signature[10] == '0' ? '1' : '0') + signature[11..];
                lines[index] = JsonSerializer.Serialize(new { token, signature = flipped });
                break;
            case "wrong-secret":
                lines[index] = SeedForge.Line(SeedForge.Mine(previous, SeedForge.Contract(index), 2, secret: "not-the-secret").Token, key);
                break;
            case "alg-none":
                var parts = SeedForge.Hs256(SeedForge.Secret, SeedForge.Payload(previous, SeedForge.Contract(index), 0), "none").Split('.');
                lines[index] = SeedForge.Line(parts[0] + "." + parts[1] + ".", key);
                break;
            case "link":
                lines[index] = SeedForge.Line(SeedForge.Mine(new string('1', 64), SeedForge.Contract(index), 2).Token, key);
                break;
            case "pow":
                lines[index] = SeedForge.Line(SeedForge.Mine(previous, SeedForge.Contract(index), 2, meet: false).Token, key);
                break;
            case "not-json":
                lines[index] = lines[index][..^1];
                break;
            case "no-signature":
                lines[index] = JsonSerializer.Serialize(new { token });
                break;
            case "payload-shape":
                lines[index] = SeedForge.Line(SeedForge.Hs256(SeedForge.Secret, $$"""{"prev_hash": "{{previous}}", "nonce": 1}"""), key);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(how));
        }

        return lines;
    }

    [Fact]
    public async Task A_longer_chain_made_with_the_seeds_libraries_replays_with_the_seeds_rules()
    {
        using var dir = new TempDir();
        var contracts = Path.Combine(dir.Path, "contracts.json");
        File.WriteAllText(contracts, """
            [
              {"actions": [{"action": "register_student", "student": {"id": "S1", "name": "First", "department": "D"}}]},
              {"actions": [{"action": "vote_proposal", "proposal": {"id": "P1", "description": "x"}}]},
              {"actions": [{"action": "vote_proposal", "proposal": {"id": "P1", "description": "x"}},
                           {"action": "vote_proposal", "proposal": {"id": "P1", "description": "x"}}]},
              {"actions": [{"action": "register_student", "student": {"id": "S1", "name": "Second", "department": "D"}}]},
              {"actions": [{"action": "generate_nft", "nft": {"id": "N1", "name": "n"}}, {"action": "add_course", "course": {"id": "C1", "name": "c"}}]}
            ]
            """);
        var out_ = Path.Combine(dir.Path, "chain");
        var python = await ChildProcess.RunAsync("/usr/bin/python3", [Path.Combine(SeedForge.Fixture, "make_seed_chain.py"), out_, "--contracts", contracts, "--difficulty", "2"], TimeSpan.FromMinutes(2));
        Assert.True(python.ExitCode == 0, "make_seed_chain.py failed (needs python3-jwt and python3-rsa): " + python.StandardError);

        var lines = File.ReadAllLines(Path.Combine(out_, "blocks.txt"));
        using var key = System.Security.Cryptography.RSA.Create();
        key.ImportFromPem(File.ReadAllText(Path.Combine(out_, "peer1.pub.pem")));
        var result = SeedChainImporter.Import(lines, key, "your-secret-key", 2);
        Assert.Null(result.FirstRejected);
        Assert.Equal(5, result.Accepted);
        using var state = JsonDocument.Parse(result.StateJson);
        Assert.Equal("Second", state.RootElement.GetProperty("students").GetProperty("S1").GetProperty("name").GetString());
        Assert.Equal(3, state.RootElement.GetProperty("proposals").GetProperty("P1").GetProperty("votes").GetInt32());
        Assert.Single(state.RootElement.GetProperty("nfts").EnumerateObject());
        Assert.Single(state.RootElement.GetProperty("courses").EnumerateObject());
    }
}
