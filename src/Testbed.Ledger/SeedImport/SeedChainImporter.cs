using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Testbed.Vm;

namespace Testbed.Ledger.SeedImport;

/// <summary>The first block a seed import refused: its index (from 0) and one of signature, jwt, link, pow, malformed.</summary>
public sealed record SeedRejection(int Index, string Reason, string Detail);

/// <summary>The outcome of a seed import: counts, the first rejection, and the VM state after the accepted blocks.</summary>
public sealed record SeedImportResult(int Blocks, int Accepted, SeedRejection? FirstRejected, string StateJson, string StateRoot)
{
    /// <summary>The one JSON object `testbed seed-import` prints.</summary>
    public string ToJson()
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("blocks", Blocks);
            writer.WriteNumber("accepted", Accepted);
            if (FirstRejected is null)
            {
                writer.WriteNull("firstRejected");
            }
            else
            {
                writer.WriteStartObject("firstRejected");
                writer.WriteNumber("index", FirstRejected.Index);
                writer.WriteString("reason", FirstRejected.Reason);
                writer.WriteEndObject();
            }

            writer.WritePropertyName("state");
            writer.WriteRawValue(StateJson);
            writer.WriteString("stateRoot", StateRoot);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>
/// Imports a chain in the seed document's format: blocks.txt holds one JSON line {"token", "signature"} per block; the
/// token is an HS256 JWT (shared secret) whose payload has prev_hash, timestamp, transaction_data and nonce; signature is
/// hex of RSA PKCS#1 v1.5 / SHA-256 over the token's bytes; the block hash is sha256(token) as hex, which must start with
/// `difficulty` hex zeros; the first prev_hash is 64 zeros. Checks per block, in order: malformed line, signature, jwt,
/// malformed payload, link, pow; accepted blocks are replayed on the VM in seed mode (a contract the VM refuses counts
/// as malformed). Import stops at the first refused block.
/// </summary>
public static class SeedChainImporter
{
    public const int MaxLineLength = 1024 * 1024;

    public static SeedImportResult Import(IReadOnlyList<string> lines, RSA publicKey, string secret, int difficulty, VmOptions? vmOptions = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(difficulty);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(difficulty, 64);
        var vm = new OiscMachine(VmMode.Seed, vmOptions);
        var previous = new string('0', 64);
        var zeros = new string('0', difficulty);
        SeedRejection? rejected = null;
        var accepted = 0;
        for (var i = 0; i < lines.Count && rejected is null; i++)
        {
            var problem = Check(lines[i], publicKey, secret, previous, zeros, out var hash, out var contract);
            if (problem is not null)
            {
                rejected = new SeedRejection(i, problem.Value.Reason, problem.Value.Detail);
                break;
            }

            try
            {
                vm.ApplyBlock(i, [new VmTransaction("", contract!)]);
            }
            catch (VmRejectedException e)
            {
                rejected = new SeedRejection(i, "malformed", $"the VM refuses action {e.ActionIndex}: {e.Reason}");
                break;
            }

            previous = hash!;
            accepted++;
        }

        return new SeedImportResult(lines.Count, accepted, rejected, vm.ExportStateJson(), vm.StateRoot.ToString());
    }

    /// <summary>Splits a blocks.txt text into block lines the way the seed reads it (a final newline ends the last line).</summary>
    public static IReadOnlyList<string> SplitLines(string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (text.EndsWith('\n'))
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }

    private static (string Reason, string Detail)? Check(string line, RSA publicKey, string secret, string previous, string zeros, out string? hash, out string? contract)
    {
        hash = null;
        contract = null;
        if (line.Length > MaxLineLength)
        {
            return ("malformed", $"line is {line.Length} characters, limit {MaxLineLength}");
        }

        string token;
        byte[] signature;
        try
        {
            using var doc = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 64 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object ||
                !root.TryGetProperty("token", out var t) || t.ValueKind != JsonValueKind.String ||
                !root.TryGetProperty("signature", out var s) || s.ValueKind != JsonValueKind.String)
            {
                return ("malformed", "line is not an object with string token and signature");
            }

            token = t.GetString()!;
            var hex = s.GetString()!;
            if (hex.Length % 2 != 0 || !hex.All(Uri.IsHexDigit))
            {
                return ("malformed", "signature is not hex");
            }

            signature = Convert.FromHexString(hex);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return ("malformed", $"line is not JSON: {e.Message}");
        }

        var tokenBytes = Encoding.UTF8.GetBytes(token);
        bool signed;
        try
        {
            signed = publicKey.VerifyData(tokenBytes, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException)
        {
            signed = false;
        }

        if (!signed)
        {
            return ("signature", "RSA PKCS#1 v1.5 SHA-256 signature does not verify with the public key");
        }

        var jwtProblem = VerifyHs256(token, secret, out var payload);
        if (jwtProblem is not null)
        {
            return ("jwt", jwtProblem);
        }

        try
        {
            using var doc = JsonDocument.Parse(payload!, new JsonDocumentOptions { MaxDepth = 64 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object ||
                !root.TryGetProperty("prev_hash", out var prev) || prev.ValueKind != JsonValueKind.String ||
                !root.TryGetProperty("nonce", out var nonce) || nonce.ValueKind != JsonValueKind.Number ||
                !root.TryGetProperty("transaction_data", out var data) || data.ValueKind != JsonValueKind.Object ||
                !data.TryGetProperty("actions", out var actions) || actions.ValueKind != JsonValueKind.Array)
            {
                return ("malformed", "payload needs prev_hash (string), nonce (number) and transaction_data with an actions array");
            }

            if (prev.GetString() != previous)
            {
                return ("link", $"prev_hash {prev.GetString()} is not the previous block's hash {previous}");
            }

            contract = data.GetRawText();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return ("malformed", $"payload is not JSON: {e.Message}");
        }

        hash = Convert.ToHexStringLower(SHA256.HashData(tokenBytes));
        if (!hash.StartsWith(zeros, StringComparison.Ordinal))
        {
            return ("pow", $"sha256(token) = {hash} does not start with {zeros.Length} zeros");
        }

        return null;
    }

    private static string? VerifyHs256(string token, string secret, out byte[]? payload)
    {
        payload = null;
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return "token is not three dot-separated parts";
        }

        byte[] header;
        byte[] mac;
        try
        {
            header = Base64Url.DecodeFromChars(parts[0]);
            payload = Base64Url.DecodeFromChars(parts[1]);
            mac = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (FormatException)
        {
            return "a token part is not base64url";
        }

        if (!System.Text.Unicode.Utf8.IsValid(header) || !System.Text.Unicode.Utf8.IsValid(payload))
        {
            return "token header or payload is not UTF-8";
        }

        try
        {
            using var doc = JsonDocument.Parse(header);
            if (doc.RootElement.ValueKind != JsonValueKind.Object ||
                !doc.RootElement.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String)
            {
                return "token header has no alg";
            }

            if (alg.GetString() != "HS256")
            {
                return $"token alg '{alg.GetString()}' is not HS256";
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return "token header is not JSON";
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(token[..(parts[0].Length + 1 + parts[1].Length)]));
        return CryptographicOperations.FixedTimeEquals(expected, mac) ? null : "HS256 signature does not verify with the secret";
    }
}
