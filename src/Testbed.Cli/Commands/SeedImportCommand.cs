using System.CommandLine;
using System.Security.Cryptography;
using Testbed.Ledger.SeedImport;

namespace Testbed.Cli.Commands;

/// <summary>`testbed seed-import`: verifies and replays a chain in the seed document's format and prints one JSON object.</summary>
internal static class SeedImportCommand
{
    private const long MaxBlocksFileBytes = 256L * 1024 * 1024;

    public static Command Create()
    {
        var blocks = new Option<string>("--blocks") { Description = "blocks.txt: one JSON line {\"token\",\"signature\"} per block", Required = true };
        var publicKey = new Option<string>("--public-key") { Description = "PEM file of the signer's RSA public key (PKCS#1 or SubjectPublicKeyInfo)", Required = true };
        var secret = new Option<string>("--secret") { Description = "The HS256 shared secret of the JWTs", Required = true };
        var difficulty = new Option<int>("--difficulty") { Description = "Proof of work: leading hex zeros of sha256(token) (0-64)", Required = true };
        var command = new Command("seed-import", "Verify every block of a seed-format chain in order, replay the accepted ones on the VM (seed mode), print the result as JSON");
        command.Options.Add(blocks);
        command.Options.Add(publicKey);
        command.Options.Add(secret);
        command.Options.Add(difficulty);
        command.SetAction(async (parseResult, ct) =>
        {
            var bits = parseResult.GetValue(difficulty);
            if (bits is < 0 or > 64)
            {
                await Console.Error.WriteLineAsync($"error: --difficulty must be 0-64 hex zeros, got {bits}");
                return 2;
            }

            string text;
            using var rsa = RSA.Create();
            try
            {
                var blocksPath = parseResult.GetValue(blocks)!;
                var length = new FileInfo(blocksPath).Length;
                if (length > MaxBlocksFileBytes)
                {
                    await Console.Error.WriteLineAsync($"error: {blocksPath} is {length} bytes, limit {MaxBlocksFileBytes}");
                    return 2;
                }

                text = await File.ReadAllTextAsync(blocksPath, ct);
                var keyPath = parseResult.GetValue(publicKey)!;
                if (new FileInfo(keyPath).Length > 64 * 1024)
                {
                    await Console.Error.WriteLineAsync($"error: {keyPath} is too large to be a PEM public key");
                    return 2;
                }

                rsa.ImportFromPem(await File.ReadAllTextAsync(keyPath, ct));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"error: cannot read input: {e.Message}");
                return 2;
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                await Console.Error.WriteLineAsync($"error: the public key file holds no RSA public key in PEM: {e.Message}");
                return 2;
            }

            var result = SeedChainImporter.Import(SeedChainImporter.SplitLines(text), rsa, parseResult.GetValue(secret)!, bits);
            await Console.Out.WriteLineAsync(result.ToJson());
            if (result.FirstRejected is { } rejected)
            {
                await Console.Error.WriteLineAsync($"block {rejected.Index} rejected ({rejected.Reason}): {rejected.Detail}");
                return 1;
            }

            return 0;
        });
        return command;
    }
}
