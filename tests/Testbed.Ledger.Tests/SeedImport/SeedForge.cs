namespace Testbed.Ledger.Tests.SeedImport;

/// <summary>Makes seed-format blocks (HS256 JWT, RSA PKCS#1 signature in hex, hex-zero proof of work) to tamper with.</summary>
internal static class SeedForge
{
    /// <summary>tests/Shared/Fixtures/seed-chain, copied to the output: a chain made with the seed's own libraries and its wallets.</summary>
    public static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "seed-chain");

    public const string Secret = "your-secret-key";

    public static RSA LoadKey(string file)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(Path.Combine(Fixture, file)));
        return rsa;
    }

    public static string Hs256(string secret, string payloadJson, string alg = "HS256")
    {
        var signingInput = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"alg":"{{alg}}","typ":"JWT"}""")) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payloadJson));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url.EncodeToString(mac);
    }

    public static string Payload(string prevHash, string contractJson, long nonce) =>
        $$"""{"prev_hash": "{{prevHash}}", "timestamp": "2026-11-24T03:00:00.000000", "transaction_data": {{contractJson}}, "nonce": {{nonce}}}""";

    /// <summary>Mines a token whose sha256 hex does (or does not) start with the given number of zeros.</summary>
    public static (string Token, string Hash) Mine(string prevHash, string contractJson, int difficulty, bool meet = true, string secret = Secret)
    {
        for (var nonce = 0L; ; nonce++)
        {
            var token = Hs256(secret, Payload(prevHash, contractJson, nonce));
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));
            if (hash.StartsWith(new string('0', difficulty), StringComparison.Ordinal) == meet)
            {
                return (token, hash);
            }
        }
    }

    public static string Line(string token, RSA key) =>
        JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["token"] = token,
            ["signature"] = Convert.ToHexStringLower(key.SignData(Encoding.UTF8.GetBytes(token), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)),
        });

    public static string TokenOf(string line)
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("token").GetString()!;
    }

    public static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));

    public static string Contract(int i) => $$$"""{"actions": [{"action": "register_student", "student": {"id": "T{{{i}}}", "name": "Extra", "department": "Testing"}}]}""";
}
