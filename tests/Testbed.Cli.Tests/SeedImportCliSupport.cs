using System.Buffers.Text;
using System.Text;
using Testbed.TestSupport;

namespace Testbed.Cli.Tests.LedgerCommands;

/// <summary>Runs the real `testbed` CLI (testbed.dll next to the tests) as a child process, in this process's directory.</summary>
internal static class TestbedProcess
{
    public static Task<DotnetProcess.Outcome> RunAsync(params string[] args) => DotnetProcess.RunAsync("testbed.dll", args);
}

/// <summary>A temporary directory for one test.</summary>
internal sealed class SeedImportTempDir : IDisposable
{
    public SeedImportTempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cli-ledger-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Seed-format blocks made in the test, to tamper with a copy of the fixture chain.</summary>
internal static class SeedBlocks
{
    /// <summary>tests/Shared/Fixtures/seed-chain, copied to the output: a chain made with the seed's own libraries and its wallets.</summary>
    public static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "seed-chain");

    public const string Secret = "your-secret-key";

    public static string Hs256(string secret, string payloadJson)
    {
        var input = Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payloadJson));
        return input + "." + Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(input)));
    }

    public static string Mine(string prevHash, bool meet, string secret = Secret)
    {
        for (var nonce = 0; ; nonce++)
        {
            var token = Hs256(secret, $$$"""{"prev_hash": "{{{prevHash}}}", "timestamp": "2026-11-24T03:00:00", "transaction_data": {"actions": [{"action": "add_course", "course": {"id": "C9", "name": "x"}}]}, "nonce": {{{nonce}}}}""");
            if (Hash(token).StartsWith("00", StringComparison.Ordinal) == meet)
            {
                return token;
            }
        }
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));

    public static string Line(string token)
    {
        using var key = RSA.Create();
        key.ImportFromPem(System.IO.File.ReadAllText(System.IO.Path.Combine(Fixture, "peer1.key.pem")));
        var signature = key.SignData(Encoding.UTF8.GetBytes(token), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return JsonSerializer.Serialize(new { token, signature = Convert.ToHexStringLower(signature) });
    }

    public static string TokenOf(string line)
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("token").GetString()!;
    }
}
