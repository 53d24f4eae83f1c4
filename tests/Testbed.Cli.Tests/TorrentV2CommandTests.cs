namespace Testbed.Cli.Tests;

/// <summary>`testbed torrent create --v2/--hybrid`, `torrent info`, and `torrent get`/`seed` on BEP 52 torrents and v2 magnets.</summary>
public sealed class TorrentV2CommandTests : IDisposable
{
    private readonly BadInputDir _dir = new();
    private readonly string _source;

    public TorrentV2CommandTests()
    {
        _source = _dir.File("bundle");
        Directory.CreateDirectory(Path.Combine(_source, "sub"));
        File.WriteAllBytes(Path.Combine(_source, "a.bin"), new byte[40_000]);
        File.WriteAllBytes(Path.Combine(_source, "sub", "b.txt"), "hello"u8.ToArray());
    }

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("--hybrid", "hybrid")]
    [InlineData("--v2", "v2")]
    public async Task Created_torrents_show_their_v1_and_v2_info_hashes_and_file_tree(string flag, string version)
    {
        var output = _dir.File($"{version}.torrent");
        var created = await CliProcess.RunAsync(["torrent", "create", _source, flag, "--piece-length", "16384", "-o", output]);
        Assert.True(created.ExitCode == 0, created.ToString());
        var torrent = TorrentMetainfo.Load(await File.ReadAllBytesAsync(output));
        var v2 = torrent.Info.InfoHashV2!.Value;
        Assert.Contains($"info hash v2 {v2.ToHex()}", created.Stdout, StringComparison.Ordinal);

        var info = await CliProcess.RunAsync(["torrent", "info", output, "--json"]);
        Assert.True(info.ExitCode == 0, info.ToString());
        var json = JsonDocument.Parse(info.Stdout).RootElement;
        Assert.Equal(version, json.GetProperty("version").GetString());
        Assert.Equal(v2.ToHex(), json.GetProperty("info_hash_v2").GetString());
        Assert.Equal(v2.ToHex()[..40], json.GetProperty("info_hash_v2_truncated").GetString());
        Assert.Equal(torrent.Info.InfoHashV1?.ToHex(), json.GetProperty("info_hash_v1").GetString());
        Assert.Equal(version == "v2" ? v2.ToHex()[..40] : torrent.Info.InfoHashV1!.Value.ToHex(), json.GetProperty("info_hash").GetString());
        Assert.Equal(
            ["bundle/a.bin:40000", "bundle/sub/b.txt:5"],
            json.GetProperty("file_tree").EnumerateArray().Select(f => $"{f.GetProperty("path").GetString()}:{f.GetProperty("length").GetInt64()}"));
        Assert.Equal(torrent.Info.FileTree[0].PiecesRoot!.Value.ToHex(), json.GetProperty("file_tree")[0].GetProperty("pieces_root").GetString());
        Assert.Contains($"xt=urn:btmh:1220{v2.ToHex()}", json.GetProperty("magnet").GetString(), StringComparison.Ordinal);

        var text = await CliProcess.RunAsync(["torrent", "info", output]);
        Assert.Contains($"version      {version}", text.Stdout, StringComparison.Ordinal);
        Assert.Contains($"info hash v2 {v2.ToHex()}", text.Stdout, StringComparison.Ordinal);
        Assert.Contains($"v2 truncated {v2.ToHex()[..40]}", text.Stdout, StringComparison.Ordinal);
        Assert.Equal(version == "hybrid", text.Stdout.Contains($"info hash    {torrent.Info.InfoHashV1?.ToHex()}", StringComparison.Ordinal));
        Assert.Contains($"{torrent.Info.FileTree[0].PiecesRoot!.Value.ToHex()}  bundle/a.bin", text.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--v2")]
    [InlineData("--hybrid")]
    public async Task Torrent_get_downloads_and_torrent_seed_checks_v2_and_hybrid_torrents(string flag)
    {
        var output = _dir.File("made.torrent");
        var created = await CliProcess.RunAsync(["torrent", "create", _source, flag, "--piece-length", "16384", "-o", output]);
        Assert.True(created.ExitCode == 0, created.ToString());
        var torrent = TorrentMetainfo.Load(await File.ReadAllBytesAsync(output));

        // Our library seeds (the sessions are tested at length in the Torrent tests); the CLI downloads through them.
        await using var seeder = new Testbed.Torrent.Sessions.TorrentClient(new Testbed.Torrent.Sessions.TorrentClientOptions { ListenEndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0) });
        var seed = seeder.Add(torrent, Path.GetDirectoryName(_source)!, new Testbed.Torrent.Sessions.TorrentSessionOptions { ReadOnly = true });
        await seed.StartAsync();
        var get = _dir.File("get");
        Directory.CreateDirectory(get);
        var got = await CliProcess.RunAsync(["torrent", "get", output, "--dir", get, "--peer", seeder.LocalEndPoint!.ToString(), "--no-tracker", "--timeout", "60"], timeout: TimeSpan.FromSeconds(90));
        Assert.True(got.ExitCode == 0, got.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_source, "a.bin")), await File.ReadAllBytesAsync(Path.Combine(get, "bundle", "a.bin")));
        Assert.Equal("hello"u8.ToArray(), await File.ReadAllBytesAsync(Path.Combine(get, "bundle", "sub", "b.txt")));

        // A magnet link (urn:btmh for --v2: metadata by BEP 9, piece layers by hash requests) downloads too.
        var viaMagnet = _dir.File("get-magnet");
        Directory.CreateDirectory(viaMagnet);
        var magnet = MagnetLink.FromMetainfo(torrent).ToString();
        Assert.Equal(flag == "--hybrid", magnet.Contains("urn:btih:", StringComparison.Ordinal));
        var gotMagnet = await CliProcess.RunAsync(["torrent", "get", magnet, "--dir", viaMagnet, "--peer", seeder.LocalEndPoint!.ToString(), "--no-tracker", "--timeout", "60"], timeout: TimeSpan.FromSeconds(90));
        Assert.True(gotMagnet.ExitCode == 0, gotMagnet.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_source, "a.bin")), await File.ReadAllBytesAsync(Path.Combine(viaMagnet, "bundle", "a.bin")));

        // `torrent seed` takes the torrent and checks the data (a missing file is exit 1, not the old v2-only refusal).
        var empty = _dir.File("empty");
        Directory.CreateDirectory(empty);
        await CliProcess.FailsAsync(1, ["torrent", "seed", output, "--dir", empty, "--listen", "127.0.0.1:0", "--no-tracker"], "a.bin is missing");
    }

    [Fact]
    public async Task Conflicting_flags_and_bad_v2_piece_lengths_are_refused_clearly()
    {
        var output = _dir.File("x.torrent");
        await CliProcess.FailsAsync(2, ["torrent", "create", _source, "--v2", "--hybrid", "-o", output], "--v2 and --hybrid");
        await CliProcess.FailsAsync(2, ["torrent", "create", _source, "--v2", "--piece-length", "20000", "-o", output], "--piece-length 20000", "power of two of at least 16384");
        Assert.False(File.Exists(output));

        var created = await CliProcess.RunAsync(["torrent", "create", _source, "--v2", "-o", output]);
        Assert.True(created.ExitCode == 0, created.ToString());
    }
}
