using System.CommandLine;
using System.Text.Json;
using Testbed.Ledger.Wallets;

namespace Testbed.Cli.Commands;

/// <summary>`testbed wallet new|show --dir D`: a peer's ES256 wallet in its data directory.</summary>
internal static class WalletCommand
{
    public static Command Create()
    {
        var wallet = new Command("wallet", "Create or show a peer's ES256 (P-256) wallet in a data directory");
        wallet.Subcommands.Add(Build("new", "Create a wallet in the directory (refuses to overwrite one)", create: true));
        wallet.Subcommands.Add(Build("show", "Show the address and public key of the directory's wallet", create: false));
        return wallet;
    }

    private static Command Build(string name, string description, bool create)
    {
        var dir = new Option<string>("--dir") { Description = "The peer's data directory", Required = true };
        var command = new Command(name, description);
        command.Options.Add(dir);
        command.SetAction(async (parseResult, ct) =>
        {
            // Wallet errors (no wallet, a key file others can read, a directory others can write, ...) reach CliErrors: exit 2.
            var directory = CliOptions.NotEmpty(parseResult.GetValue(dir), "--dir");
            if (create && Wallet.Exists(directory))
            {
                await Console.Error.WriteLineAsync($"error: a wallet already exists at {Wallet.FilePath(directory)}; refusing to overwrite it");
                return CliErrors.CheckFailed;
            }

            using var w = create ? Wallet.CreateNew(directory) : Wallet.Load(directory);
            await Console.Out.WriteLineAsync(Describe(w));
            return CliErrors.Success;
        });
        return command;
    }

    private static string Describe(Wallet wallet)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("address", wallet.Address);
            writer.WriteString("algorithm", "ES256");
            writer.WriteString("file", wallet.Path);
            writer.WriteString("publicKey", wallet.PublicKeyPem);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
