namespace Testbed.Cli.Tests.BadInput;

/// <summary>`testbed wallet new|show --dir D` against unusable directories and key files.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class WalletBadInputTests
{
    private const string KeyFile = "wallet.key.pem";

    [Theory]
    [InlineData("new")]
    [InlineData("show")]
    public async Task An_empty_dir_is_refused_in_one_line(string verb)
    {
        await CliProcess.FailsAsync(2, ["wallet", verb, "--dir", ""], "--dir", "empty");
        await CliProcess.FailsAsync(2, ["wallet", verb, "--dir", "   "], "--dir", "empty");
    }

    [Theory]
    [InlineData("new")]
    [InlineData("show")]
    public async Task A_dir_that_is_a_file_is_refused(string verb)
    {
        using var dir = new BadInputDir();
        var file = dir.Write("plain", [1, 2, 3]);
        await CliProcess.FailsAsync(2, ["wallet", verb, "--dir", file], file, "not a directory");
    }

    [Theory]
    [InlineData("new", 0x1FF, "others")]
    [InlineData("show", 0x1FF, "others")]
    [InlineData("new", 0x1F8, "its group")]
    public async Task A_directory_others_may_write_to_is_refused_and_no_key_is_written(string verb, int mode, string who)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var dir = new BadInputDir();
        var open = dir.File("open");
        Directory.CreateDirectory(open);
        File.SetUnixFileMode(open, (UnixFileMode)mode);
        await CliProcess.FailsAsync(2, ["wallet", verb, "--dir", open], "writable by " + who, "chmod 700");
        Assert.False(File.Exists(Path.Combine(open, KeyFile)));
    }

    [Fact]
    public async Task A_100_MB_key_file_is_refused_by_its_length_before_it_is_read()
    {
        using var dir = new BadInputDir();
        var (data, key) = WalletDir(dir, "data");
        await WriteKeyAsync(key, new byte[100 * 1024 * 1024]);
        var outcome = await CliProcess.FailsAsync(2, ["wallet", "show", "--dir", data], "16384 bytes", "wallet file");
        // Reading the file before the check (as it used to) costs at least 100 MB more than this.
        CliProcess.AssertPeakBelow(outcome, CliProcess.ModestPeakBytes, "wallet show of a 100 MB key");
    }

    [Fact]
    public async Task A_key_file_that_is_a_device_or_a_fifo_is_refused_by_kind_without_reading()
    {
        using var dir = new BadInputDir();
        var (data, key) = WalletDir(dir, "data");
        File.CreateSymbolicLink(key, "/dev/zero");
        var outcome = await CliProcess.FailsAsync(2, ["wallet", "show", "--dir", data], "a device");
        CliProcess.AssertPeakBelow(outcome, CliProcess.ModestPeakBytes, "wallet show of /dev/zero");

        File.Delete(key);
        if (dir.Fifo("fifo") is { } fifo)
        {
            File.CreateSymbolicLink(key, fifo);
            // Opening a FIFO blocks until a writer comes: a hang here is the bug.
            await CliProcess.FailsAsync(2, ["wallet", "show", "--dir", data], "pipe");
        }
    }

    [Fact]
    public async Task Garbage_key_files_are_refused_naming_the_file()
    {
        using var dir = new BadInputDir();
        var random = new Random(BadInputs.Seed);
        for (var i = 0; i < 5; i++)
        {
            var (data, key) = WalletDir(dir, $"data{i}");
            await WriteKeyAsync(key, BadInputs.RandomBytes(random, random.Next(1, 4096)));
            await CliProcess.FailsAsync(2, ["wallet", "show", "--dir", data], "wallet file");
        }
    }

    [Fact]
    public async Task Generated_dir_arguments_end_in_0_or_one_error_line_never_a_stack_trace()
    {
        using var dir = new BadInputDir();
        foreach (var (name, value) in BadInputs.ArgumentStrings(12, BadInputs.Seed))
        {
            // Relative to a scratch directory, so a generated name that is creatable is created there and nowhere else.
            var outcome = await CliProcess.RunAsync(["wallet", "show", "--dir", value], workingDirectory: dir.Path);
            var context = $"wallet show --dir <{name}>";
            Assert.True(outcome.ExitCode is 2, $"{context}: {outcome}");
            CliProcess.AssertFails(outcome, 2, context);
        }
    }

    /// <summary>A new wallet directory <paramref name="name"/> in <paramref name="dir"/>, and the path its key file has there.</summary>
    private static (string Dir, string Key) WalletDir(BadInputDir dir, string name)
    {
        var path = dir.File(name);
        Directory.CreateDirectory(path);
        return (path, Path.Combine(path, KeyFile));
    }

    /// <summary>Writes a key file readable and writable by its owner only, as `wallet new` leaves one, so only its content is wrong.</summary>
    private static async Task WriteKeyAsync(string key, byte[] content)
    {
        await File.WriteAllBytesAsync(key, content);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
