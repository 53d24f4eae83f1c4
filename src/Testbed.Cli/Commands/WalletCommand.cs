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
            var directory = parseResult.GetValue(dir)!;
            try
            {
                if (create && Wallet.Exists(directory))
                {
                    await Console.Error.WriteLineAsync($"error: a wallet already exists at {Wallet.FilePath(directory)}; refusing to overwrite it");
                    return 1;
                }

                using var w = create ? Wallet.CreateNew(directory) : Wallet.Load(directory);
                await Console.Out.WriteLineAsync(Describe(w));
                return 0;
            }
            catch (Exception e) when (e is WalletException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }
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
