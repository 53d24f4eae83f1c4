using Testbed.TestSupport;

namespace Testbed.Cli.Tests.LedgerCommands;

/// <summary>`testbed seed-import` as a process: the fixture chain, tampered copies, and unusable input.</summary>
public sealed class SeedImportCommandTests
{
    private static readonly string[] Fixture = File.ReadAllLines(Path.Combine(SeedBlocks.Fixture, "blocks.txt"));

    [Fact]
    public async Task Fixture_chain_is_accepted_with_the_seeds_final_state()
    {
        var run = await Import(Path.Combine(SeedBlocks.Fixture, "blocks.txt"));
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.Equal(["blocks", "accepted", "firstRejected", "state", "stateRoot"], root.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(4, root.GetProperty("blocks").GetInt32());
        Assert.Equal(4, root.GetProperty("accepted").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("firstRejected").ValueKind);
        var state = root.GetProperty("state");
        Assert.Equal(["students", "courses", "proposals", "nfts"], state.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("John Doe", state.GetProperty("students").GetProperty("S001").GetProperty("name").GetString());
        Assert.Equal("Computer Science", state.GetProperty("courses").GetProperty("C001").GetProperty("department").GetString());
        Assert.Equal(1, state.GetProperty("proposals").GetProperty("P001").GetProperty("votes").GetInt32());
        Assert.Equal("RareArt", state.GetProperty("nfts").GetProperty("NFT001").GetProperty("name").GetString());
        Assert.Matches("^[0-9a-f]{64}$", root.GetProperty("stateRoot").GetString());
    }

    public static TheoryData<string, int, string> Tampered() => new()
    {
        { "token", 2, "signature" },
        { "signature", 3, "signature" },
        { "jwt", 1, "jwt" },
        { "link", 2, "link" },
        { "pow", 3, "pow" },
        { "malformed", 0, "malformed" },
    };

    [Theory]
    [MemberData(nameof(Tampered))]
    public async Task Tampered_copy_is_refused_at_the_changed_block_with_exit_code_1(string how, int index, string reason)
    {
        using var dir = new SeedImportTempDir();
        var lines = (string[])Fixture.Clone();
        var token = SeedBlocks.TokenOf(lines[index]);
        var previous = index == 0 ? new string('0', 64) : SeedBlocks.Hash(SeedBlocks.TokenOf(lines[index - 1]));
        lines[index] = how switch
        {
            // One byte of the token changed: the RSA signature no longer matches.
            "token" => lines[index].Replace(token, token[..^3] + (token[^3] == 'x' ? 'y' : 'x') + token[^2..], StringComparison.Ordinal),
            // One byte of the signature changed.
            "signature" => FlipSignature(lines[index]),
            // Properly RSA-signed, but the JWT's HMAC is made with another secret.
            "jwt" => SeedBlocks.Line(SeedBlocks.Mine(previous, meet: true, secret: "wrong")),
            // Properly signed and mined, but linked to the wrong previous block.
            "link" => SeedBlocks.Line(SeedBlocks.Mine(new string('f', 64), meet: true)),
            // Properly signed and linked, but its hash misses the two zeros.
            "pow" => SeedBlocks.Line(SeedBlocks.Mine(previous, meet: false)),
            _ => "{\"token\": 42}",
        };
        var file = dir.File("blocks.txt");
        await File.WriteAllLinesAsync(file, lines);

        var run = await Import(file);
        Assert.Equal(1, run.ExitCode);
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.Equal(4, root.GetProperty("blocks").GetInt32());
        Assert.Equal(index, root.GetProperty("accepted").GetInt32());
        Assert.Equal(index, root.GetProperty("firstRejected").GetProperty("index").GetInt32());
        Assert.Equal(reason, root.GetProperty("firstRejected").GetProperty("reason").GetString());
        Assert.Contains($"block {index} rejected ({reason})", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(Math.Min(index, 1), root.GetProperty("state").GetProperty("students").EnumerateObject().Count());
    }

    [Fact]
    public async Task Unusable_arguments_or_unreadable_files_exit_with_2_and_say_what_is_wrong()
    {
        using var dir = new SeedImportTempDir();
        var missing = await Import(dir.File("nope.txt"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nope.txt", missing.Stderr, StringComparison.Ordinal);
        Assert.Equal("", missing.Stdout);

        var notPem = dir.File("key.pem");
        await File.WriteAllTextAsync(notPem, "hello");
        var badKey = await Import(Path.Combine(SeedBlocks.Fixture, "blocks.txt"), key: notPem);
        Assert.Equal(2, badKey.ExitCode);
        Assert.Contains("public key", badKey.Stderr, StringComparison.Ordinal);

        var badDifficulty = await Import(Path.Combine(SeedBlocks.Fixture, "blocks.txt"), difficulty: "65");
        Assert.Equal(2, badDifficulty.ExitCode);
        Assert.Contains("--difficulty", badDifficulty.Stderr, StringComparison.Ordinal);

        var noSecret = await TestbedProcess.RunAsync("seed-import", "--blocks", Path.Combine(SeedBlocks.Fixture, "blocks.txt"), "--public-key", Path.Combine(SeedBlocks.Fixture, "peer1.pub.pem"), "--difficulty", "2");
        Assert.Equal(2, noSecret.ExitCode);
        Assert.Contains("--secret", noSecret.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_secret_or_signer_fails_the_check_with_exit_code_1()
    {
        var wrongSecret = await TestbedProcess.RunAsync("seed-import", "--blocks", Path.Combine(SeedBlocks.Fixture, "blocks.txt"), "--public-key", Path.Combine(SeedBlocks.Fixture, "peer1.pub.pem"), "--secret", "other", "--difficulty", "2");
        Assert.Equal(1, wrongSecret.ExitCode);
        Assert.Contains("\"reason\":\"jwt\"", wrongSecret.Stdout, StringComparison.Ordinal);

        var wrongSigner = await Import(Path.Combine(SeedBlocks.Fixture, "blocks.txt"), key: Path.Combine(SeedBlocks.Fixture, "peer3.pub.pem"));
        Assert.Equal(1, wrongSigner.ExitCode);
        Assert.Contains("\"firstRejected\":{\"index\":0,\"reason\":\"signature\"}", wrongSigner.Stdout, StringComparison.Ordinal);
    }

    private static string FlipSignature(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var signature = doc.RootElement.GetProperty("signature").GetString()!;
        var flipped = (signature[0] == 'a' ? 'b' : 'a') + signature[1..];
        return JsonSerializer.Serialize(new { token = doc.RootElement.GetProperty("token").GetString(), signature = flipped });
    }

    private static Task<DotnetProcess.Outcome> Import(string blocks, string? key = null, string difficulty = "2") =>
        TestbedProcess.RunAsync("seed-import", "--blocks", blocks, "--public-key", key ?? Path.Combine(SeedBlocks.Fixture, "peer1.pub.pem"), "--secret", SeedBlocks.Secret, "--difficulty", difficulty);
}
