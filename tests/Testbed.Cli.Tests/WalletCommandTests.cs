namespace Testbed.Cli.Tests.LedgerCommands;

/// <summary>`testbed wallet new|show --dir D` as a process.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class WalletCommandTests
{
    [Fact]
    public async Task New_creates_an_owner_only_wallet_and_show_prints_the_same_address()
    {
        using var dir = new SeedImportTempDir();
        var data = dir.File("peer-1");
        var created = await TestbedProcess.RunAsync("wallet", "new", "--dir", data);
        Assert.True(created.ExitCode == 0, created.Stderr);
        using var createdJson = JsonDocument.Parse(created.Stdout);
        var address = createdJson.RootElement.GetProperty("address").GetString()!;
        Assert.Matches("^[0-9a-f]{64}$", address);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", createdJson.RootElement.GetProperty("publicKey").GetString(), StringComparison.Ordinal);
        var file = createdJson.RootElement.GetProperty("file").GetString()!;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));

        var shown = await TestbedProcess.RunAsync("wallet", "show", "--dir", data);
        Assert.True(shown.ExitCode == 0, shown.Stderr);
        using var shownJson = JsonDocument.Parse(shown.Stdout);
        Assert.Equal(address, shownJson.RootElement.GetProperty("address").GetString());

        var again = await TestbedProcess.RunAsync("wallet", "new", "--dir", data);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Stderr, StringComparison.Ordinal);
        var still = await TestbedProcess.RunAsync("wallet", "show", "--dir", data);
        Assert.Contains(address, still.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_without_a_wallet_or_without_dir_exits_with_2()
    {
        using var dir = new SeedImportTempDir();
        var none = await TestbedProcess.RunAsync("wallet", "show", "--dir", dir.File("empty"));
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("no wallet", none.Stderr, StringComparison.Ordinal);

        var noDir = await TestbedProcess.RunAsync("wallet", "show");
        Assert.Equal(2, noDir.ExitCode);
        Assert.Contains("--dir", noDir.Stderr, StringComparison.Ordinal);
    }
}
