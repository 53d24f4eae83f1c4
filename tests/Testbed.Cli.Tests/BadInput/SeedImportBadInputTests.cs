namespace Testbed.Cli.Tests.BadInput;

/// <summary>`testbed seed-import --blocks B --public-key K --secret S --difficulty N` against unusable inputs.</summary>
public sealed class SeedImportBadInputTests : IDisposable
{
    private readonly BadInputDir _dir = new();
    private readonly string _key;
    private readonly string _blocks;

    public SeedImportBadInputTests()
    {
        using var rsa = RSA.Create(2048);
        _key = _dir.Write("signer.pub.pem", System.Text.Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem()));
        _blocks = _dir.Write("blocks.txt", "{\"token\":\"a.b.c\",\"signature\":\"x\"}\n"u8.ToArray());
    }

    public void Dispose() => _dir.Dispose();

    private string[] Args(string blocksPath, string keyPath, string difficulty = "1") =>
        ["seed-import", "--blocks", blocksPath, "--public-key", keyPath, "--secret", "s", "--difficulty", difficulty];

    [Fact]
    public async Task Blocks_from_dev_zero_are_refused_at_once_naming_blocks_not_the_key()
    {
        var outcome = await CliProcess.FailsAsync(2, Args("/dev/zero", _key), "--blocks", "/dev/zero", "device");
        Assert.DoesNotContain("public key", outcome.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(20), outcome.ToString());
        CliProcess.AssertPeakBelow(outcome, CliProcess.ModestPeakBytes, "seed-import --blocks /dev/zero");
    }

    [Fact]
    public async Task A_blocks_file_over_256_MiB_is_refused_by_its_length_before_it_is_read()
    {
        var huge = _dir.Sparse("huge.txt", (256L * 1024 * 1024) + 1);
        var outcome = await CliProcess.FailsAsync(2, Args(huge, _key), "--blocks", "268435456 bytes");
        CliProcess.AssertPeakBelow(outcome, CliProcess.ModestPeakBytes, "seed-import of a 256 MiB + 1 file");
    }

    [Fact]
    public async Task An_endless_pipe_is_read_to_its_limit_plus_one_byte_and_refused_with_memory_bounded()
    {
        if (_dir.Fifo("endless") is not { } fifo)
        {
            return;
        }

        // A writer that never ends (what `yes > fifo` would be), stopped when the reader hangs up.
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var line = new byte[1 << 20];
            line.AsSpan().Fill((byte)'{');
            try
            {
                await using var stream = new FileStream(fifo, FileMode.Open, FileAccess.Write);
                while (!stop.IsCancellationRequested)
                {
                    await stream.WriteAsync(line, stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
            }
        });
        try
        {
            var outcome = await CliProcess.FailsAsync(2, Args(fifo, _key), "--blocks", "268435456 bytes");
            // The 256 MiB limit in memory plus the runtime (about 300 MiB): an unbounded reader keeps growing until killed.
            CliProcess.AssertPeakBelow(outcome, 400L * 1024 * 1024, "seed-import of an endless pipe");
        }
        finally
        {
            await stop.CancelAsync();
            await writer.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Missing_directory_and_device_inputs_name_the_option_they_came_from()
    {
        await CliProcess.FailsAsync(2, Args(_dir.File("nope.txt"), _key), "--blocks", "no such file");
        await CliProcess.FailsAsync(2, Args(_dir.Path, _key), "--blocks", "a directory");
        await CliProcess.FailsAsync(2, Args(_blocks, _dir.File("nope.pem")), "--public-key", "no such file");
        await CliProcess.FailsAsync(2, Args(_blocks, "/dev/zero"), "--public-key", "device");
        await CliProcess.FailsAsync(2, Args(_blocks, _dir.Sparse("big.pem", 1024 * 1024)), "--public-key", "65536 bytes");
        await CliProcess.FailsAsync(2, Args("", _key), "--blocks", "empty");
    }

    [Fact]
    public async Task Generated_garbage_keys_are_blamed_on_the_key_file()
    {
        var random = new Random(BadInputs.Seed);
        for (var i = 0; i < 6; i++)
        {
            var garbage = _dir.Write($"garbage{i}.pem", BadInputs.RandomBytes(random, random.Next(1, 3000)));
            var outcome = await CliProcess.RunAsync(Args(_blocks, garbage));
            CliProcess.AssertFails(outcome, 2, $"garbage key #{i} (seed {BadInputs.Seed})", "--public-key");
        }
    }

    [Theory]
    [InlineData("x")]
    [InlineData("-1")]
    [InlineData("65")]
    [InlineData("1.5")]
    [InlineData("99999999999")]
    public async Task Bad_difficulties_are_refused_naming_the_range_without_type_names(string difficulty)
    {
        var outcome = await CliProcess.FailsAsync(2, Args(_blocks, _key, difficulty), "--difficulty", "0 to 64");
        Assert.DoesNotContain("System.", outcome.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generated_blocks_files_end_in_a_verdict_never_a_stack_trace()
    {
        var random = new Random(BadInputs.Seed);
        var count = 0;
        foreach (var (name, body) in BadInputs.JsonBodies("{\"token\":\"a.b.c\",\"signature\":\"x\"}", 10, BadInputs.Seed))
        {
            var path = _dir.Write($"blocks{count++}.txt", [.. body, (byte)'\n', .. BadInputs.RandomBytes(random, 8)]);
            var outcome = await CliProcess.RunAsync(Args(path, _key));
            var context = $"seed-import of {name} (seed {BadInputs.Seed})";
            Assert.True(outcome.ExitCode is 1 or 2, $"{context}: {outcome}");
            BadInputs.AssertNoStackTrace(outcome.Stdout + outcome.Stderr, context);
        }
    }

    [Fact]
    public async Task Response_files_are_not_expanded()
    {
        // "@file" used to be read (without a bound) as more arguments; now it is a path like any other.
        var outcome = await CliProcess.FailsAsync(2, ["seed-import", "@/dev/zero"]);
        Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(20), outcome.ToString());
        CliProcess.AssertPeakBelow(outcome, CliProcess.ModestPeakBytes, "@/dev/zero");
    }
}
