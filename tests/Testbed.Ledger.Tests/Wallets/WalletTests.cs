namespace Testbed.Ledger.Tests.Wallets;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class WalletTests
{
    [Fact]
    public void Wallet_is_created_on_first_start_owner_only_and_loaded_unchanged_on_restart()
    {
        using var dir = new TempDir();
        var data = dir.Sub("peer-1");
        string address;
        using (var created = Wallet.LoadOrCreate(data))
        {
            address = created.Address;
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Wallet.FilePath(data)));
        using var loaded = Wallet.LoadOrCreate(data);
        Assert.Equal(address, loaded.Address);
        Assert.Matches("^[0-9a-f]{64}$", loaded.Address);
    }

    [Fact]
    public void Address_is_sha256_of_the_uncompressed_public_point()
    {
        using var wallet = Wallet.CreateEphemeral();
        var q = wallet.SecurityKey.ECDsa.ExportParameters(false).Q;
        var point = new byte[] { 4 }.Concat(q.X!).Concat(q.Y!).ToArray();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(point)), wallet.Address);
    }

    [Fact]
    public void Every_wallet_has_its_own_key()
    {
        using var dir = new TempDir();
        using var a = Wallet.CreateNew(dir.Sub("a"));
        using var b = Wallet.CreateNew(dir.Sub("b"));
        Assert.NotEqual(a.Address, b.Address);
    }

    [Fact]
    public void Creating_over_an_existing_wallet_is_refused_and_keeps_the_old_key()
    {
        using var dir = new TempDir();
        using var first = Wallet.CreateNew(dir.Path);
        var e = Assert.Throws<WalletException>(() => Wallet.CreateNew(dir.Path));
        Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
        using var again = Wallet.Load(dir.Path);
        Assert.Equal(first.Address, again.Address);
    }

    [Fact]
    public void A_wallet_readable_by_others_or_not_a_key_is_refused_with_a_clear_error()
    {
        using var dir = new TempDir();
        using (Wallet.CreateNew(dir.Path))
        {
        }

        File.SetUnixFileMode(Wallet.FilePath(dir.Path), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.Contains("0600", Assert.Throws<WalletException>(() => Wallet.Load(dir.Path)).Message, StringComparison.Ordinal);

        File.WriteAllText(Wallet.FilePath(dir.Path), "not a pem");
        File.SetUnixFileMode(Wallet.FilePath(dir.Path), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Contains("EC private key", Assert.Throws<WalletException>(() => Wallet.Load(dir.Path)).Message, StringComparison.Ordinal);

        Assert.Contains("no wallet", Assert.Throws<WalletException>(() => Wallet.Load(dir.Sub("missing"))).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x1FF)]
    [InlineData(0x1F8)]
    [InlineData(0x3FF)]
    public void A_wallet_directory_others_may_write_to_is_refused_for_new_and_load(int mode)
    {
        using var dir = new TempDir();
        var data = dir.Sub("peer");
        using (Wallet.CreateNew(data))
        {
        }

        File.SetUnixFileMode(data, (UnixFileMode)mode);
        Assert.Contains("chmod 700", Assert.Throws<WalletException>(() => Wallet.Load(data)).Message, StringComparison.Ordinal);
        var empty = dir.Sub("empty");
        Directory.CreateDirectory(empty);
        File.SetUnixFileMode(empty, (UnixFileMode)mode);
        Assert.Contains("writable by", Assert.Throws<WalletException>(() => Wallet.CreateNew(empty)).Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Wallet.FilePath(empty)));
    }

    [Fact]
    public void An_oversized_or_special_key_file_is_refused_by_length_or_kind_naming_the_limit()
    {
        using var dir = new TempDir();
        var data = dir.Sub("peer");
        Directory.CreateDirectory(data);
        using (var stream = new FileStream(Wallet.FilePath(data), FileMode.Create))
        {
            stream.SetLength(1L << 30);
        }

        File.SetUnixFileMode(Wallet.FilePath(data), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Contains($"{Wallet.MaxFileBytes} bytes", Assert.Throws<WalletException>(() => Wallet.Load(data)).Message, StringComparison.Ordinal);

        File.Delete(Wallet.FilePath(data));
        File.CreateSymbolicLink(Wallet.FilePath(data), "/dev/zero");
        Assert.Contains("a device", Assert.Throws<WalletException>(() => Wallet.Load(data)).Message, StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<WalletException>(() => Wallet.Load("")).Message, StringComparison.Ordinal);
    }
}
