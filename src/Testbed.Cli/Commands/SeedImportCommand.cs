using System.CommandLine;
using System.Security.Cryptography;
using Testbed.IO;
using Testbed.Ledger.SeedImport;

namespace Testbed.Cli.Commands;

/// <summary>`testbed seed-import`: verifies and replays a chain in the seed document's format and prints one JSON object.</summary>
internal static class SeedImportCommand
{
    private const long MaxBlocksFileBytes = 256L * 1024 * 1024;
    private const long MaxKeyFileBytes = 64 * 1024;

    public static Command Create()
    {
        var blocks = new Option<string>("--blocks") { Description = "blocks.txt: one JSON line {\"token\",\"signature\"} per block", Required = true };
        var publicKey = new Option<string>("--public-key") { Description = "PEM file of the signer's RSA public key (PKCS#1 or SubjectPublicKeyInfo)", Required = true };
        var secret = new Option<string>("--secret") { Description = "The HS256 shared secret of the JWTs", Required = true };
        var difficulty = CliOptions.Integer("--difficulty", "Proof of work: leading hex zeros of sha256(token) (0-64)", 0, 64, 0, required: true);
        var command = new Command("seed-import", "Verify every block of a seed-format chain in order, replay the accepted ones on the VM (seed mode), print the result as JSON")
        {
            blocks,
            publicKey,
            secret,
            difficulty,
        };
        command.SetAction(async (parseResult, ct) =>
        {
            var bits = parseResult.GetValue(difficulty);
            // Both inputs are checked (kind, then size, bounded even for a pipe) before any is parsed: /dev/zero is refused
            // by kind, an endless pipe after 256 MiB + 1 bytes, and each error names the input it is about.
            var blocksPath = CliOptions.NotEmpty(parseResult.GetValue(blocks), "--blocks");
            var keyPath = CliOptions.NotEmpty(parseResult.GetValue(publicKey), "--public-key");
            InputFiles.RequireReadable(blocksPath, "--blocks", allowPipe: true);
            var pem = InputFiles.ReadAllText(keyPath, MaxKeyFileBytes, "--public-key", allowPipe: true);
            using var rsa = RSA.Create();
            try
            {
                rsa.ImportFromPem(pem);
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                throw new CliUsageException($"--public-key {keyPath} holds no RSA public key in PEM: {e.Message}");
            }

            var text = InputFiles.ReadAllText(blocksPath, MaxBlocksFileBytes, "--blocks", allowPipe: true);

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
