using System.Text;
using Testbed.Torrent.Bencoding;

namespace Testbed.Cli.Tests.BadInput;

/// <summary>`testbed torrent create PATH -o FILE` against unusable sources, outputs and options.</summary>
public sealed class TorrentCreateBadInputTests : IDisposable
{
    private readonly BadInputDir _dir = new();
    private readonly string _source;

    public TorrentCreateBadInputTests() => _source = _dir.Write("data.bin", Encoding.ASCII.GetBytes(new string('d', 50_000)));

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task An_output_that_is_a_directory_a_missing_directory_or_unwritable_is_refused_before_hashing()
    {
        await CliProcess.FailsAsync(2, ["torrent", "create", _source, "-o", _dir.Path], "--output", "is a directory");
        await CliProcess.FailsAsync(2, ["torrent", "create", _source, "-o", Path.Combine(_dir.File("missing"), "x.torrent")], "--output", "does not exist");
        await CliProcess.FailsAsync(2, ["torrent", "create", _source, "-o", ""], "--output", "empty");
        if (_dir.Unwritable() is { } locked)
        {
            await CliProcess.FailsAsync(2, ["torrent", "create", _source, "-o", Path.Combine(locked, "x.torrent")], "--output", "cannot be written");
        }

        // Nothing was left behind: no output, no temporary file.
        Assert.Equal([_source], Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public async Task A_fifo_or_a_device_source_is_refused_at_once_instead_of_hanging()
    {
        var output = _dir.File("x.torrent");
        if (_dir.Fifo("fifo") is { } fifo)
        {
            var outcome = await CliProcess.FailsAsync(2, ["torrent", "create", fifo, "-o", output], "pipe", "regular files");
            Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(20), outcome.ToString());
            var tree = _dir.File("tree");
            Directory.CreateDirectory(tree);
            await File.WriteAllTextAsync(Path.Combine(tree, "a.txt"), "a");
            File.Move(fifo, Path.Combine(tree, "b.fifo"));
            await CliProcess.FailsAsync(2, ["torrent", "create", tree, "-o", output], "b.fifo", "pipe");
        }

        var device = await CliProcess.FailsAsync(2, ["torrent", "create", "/dev/zero", "-o", output], "/dev/zero", "device");
        CliProcess.AssertPeakBelow(device, CliProcess.ModestPeakBytes, "torrent create /dev/zero");
        await CliProcess.FailsAsync(2, ["torrent", "create", _dir.File("nothing"), "-o", output], "no such file");
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1e3")]
    [InlineData("99999999999")]
    public async Task Bad_piece_lengths_name_the_option_and_range_without_type_names(string value)
    {
        var outcome = await CliProcess.FailsAsync(2, ["torrent", "create", _source, "--piece-length", value, "-o", _dir.File("x.torrent")], "--piece-length", "from 1 to");
        Assert.DoesNotContain("System.", outcome.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generated_tracker_urls_and_comments_never_end_in_a_stack_trace()
    {
        var i = 0;
        foreach (var (name, value) in BadInputs.ArgumentStrings(8, BadInputs.Seed))
        {
            var output = _dir.File($"t{i++}.torrent");
            var tracker = await CliProcess.RunAsync(["torrent", "create", _source, "--tracker", value, "-o", output]);
            CliProcess.AssertFails(tracker, 2, $"--tracker <{name}>", "--tracker");
            var comment = await CliProcess.RunAsync(["torrent", "create", _source, "--comment", value, "-o", output]);
            Assert.True(comment.ExitCode == 0 || comment.ExitCode == 2, $"--comment <{name}>: {comment}");
            BadInputs.AssertNoStackTrace(comment.Stdout + comment.Stderr, $"--comment <{name}>");
            Assert.DoesNotContain('\u001b', comment.Stdout);
        }
    }
}

/// <summary>`testbed torrent info FILE [--json]` against unusable files and hostile torrents.</summary>
public sealed class TorrentInfoBadInputTests : IDisposable
{
    private readonly BadInputDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A valid single-file torrent whose name, comment, creator and tracker carry <paramref name="text"/>.</summary>
    private static byte[] Hostile(string text)
    {
        var info = new BencodeDictionary
        {
            ["length"] = 3L,
            ["name"] = "name" + text,
            ["piece length"] = 16384L,
            ["pieces"] = new byte[20],
        };
        return new BencodeDictionary
        {
            ["announce"] = "http://tracker.example/announce" + text,
            ["comment"] = "comment" + text,
            ["created by"] = "creator" + text,
            ["info"] = info,
        }.Encode();
    }

    [Fact]
    public async Task Terminal_escapes_in_a_torrents_texts_are_printed_escaped()
    {
        const string hostile = "\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202Eevil\r\n";
        var file = _dir.Write("hostile.torrent", Hostile(hostile));
        var outcome = await CliProcess.RunAsync(["torrent", "info", file]);
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        foreach (var c in new[] { '\u001b', '\u0007', '\u009b', '\u202E', '\r' })
        {
            Assert.DoesNotContain(c, outcome.Stdout);
        }

        Assert.Contains("\\u001b]0;pwned\\u0007", outcome.Stdout, StringComparison.Ordinal);
        // Twelve fields (the BEP 52 `version` line included), one line each: the texts' CR LF did not add lines.
        Assert.Equal(12, outcome.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var json = await CliProcess.RunAsync(["torrent", "info", file, "--json"]);
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.DoesNotContain('\u001b', json.Stdout);
        Assert.DoesNotContain('\u009b', json.Stdout);
    }

    [Fact]
    public async Task Directories_devices_missing_and_oversized_files_are_named_as_such()
    {
        await CliProcess.FailsAsync(2, ["torrent", "info", _dir.Path], "is a directory");
        var device = await CliProcess.FailsAsync(2, ["torrent", "info", "/dev/zero"], "device");
        CliProcess.AssertPeakBelow(device, CliProcess.ModestPeakBytes, "torrent info /dev/zero");
        await CliProcess.FailsAsync(2, ["torrent", "info", _dir.File("none.torrent")], "no such file");
        var huge = await CliProcess.FailsAsync(2, ["torrent", "info", _dir.Sparse("huge.torrent", 100L * 1024 * 1024)], "bytes", "limit");
        CliProcess.AssertPeakBelow(huge, CliProcess.ModestPeakBytes, "torrent info of 100 MB");
        await CliProcess.FailsAsync(2, ["torrent", "info", ""], "empty");
    }

    [Fact]
    public async Task Generated_corrupt_torrents_are_refused_in_one_line()
    {
        var valid = TorrentCreator.CreateFromBytes("file.bin", new byte[40_000], new TorrentCreateOptions { TrackerTiers = [["http://t.example/announce"]] }).ToBytes();
        var random = new Random(BadInputs.Seed);
        for (var i = 0; i < 25; i++)
        {
            var bytes = (byte[])valid.Clone();
            var mutation = random.Next(3);
            if (mutation == 0)
            {
                bytes = bytes[..random.Next(bytes.Length)];
            }
            else
            {
                for (var flips = random.Next(1, 6); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }
            }

            var file = _dir.Write($"corrupt{i}.torrent", bytes);
            var outcome = await CliProcess.RunAsync(["torrent", "info", file]);
            var context = $"corrupt torrent #{i} (mutation {mutation}, seed {BadInputs.Seed})";
            Assert.True(outcome.ExitCode is 0 or 2, $"{context}: {outcome}");
            if (outcome.ExitCode == 2)
            {
                CliProcess.AssertFails(outcome, 2, context);
            }

            Assert.DoesNotContain(outcome.Stdout, c => char.IsControl(c) && c != '\n');
        }
    }
}
