namespace Testbed.Torrent.Tests.Sessions;

/// <summary>Temporary directories with random content and torrents made from them, for swarm tests.</summary>
internal sealed class TestTorrents : IDisposable
{
    public TestTorrents()
    {
        Root = Path.Combine(Path.GetTempPath(), "tb-torrent-" + Guid.NewGuid().ToString("n")[..12]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string NewDirectory(string name)
    {
        var path = Path.Combine(Root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Writes a multi-file tree under seedDir/name and returns its metainfo.</summary>
    public async Task<TorrentMetainfo> CreateMultiFileAsync(string seedDir, string name, int[] sizes, int pieceLength, IReadOnlyList<string>? trackers = null, TorrentVersion version = TorrentVersion.V1)
    {
        var top = Path.Combine(seedDir, name);
        Directory.CreateDirectory(Path.Combine(top, "sub"));
        for (var i = 0; i < sizes.Length; i++)
        {
            var path = i % 2 == 0 ? Path.Combine(top, $"file{i}.bin") : Path.Combine(top, "sub", $"file{i}.bin");
            await File.WriteAllBytesAsync(path, RandomBytes(sizes[i], i + 1));
        }

        return await TorrentCreator.CreateFromPathAsync(top, new TorrentCreateOptions
        {
            PieceLength = pieceLength,
            TrackerTiers = trackers is null ? [] : TorrentCreateOptions.OneTierEach(trackers),
            Version = version,
        });
    }

    /// <summary>Writes one file under seedDir and returns its metainfo.</summary>
    public async Task<TorrentMetainfo> CreateSingleFileAsync(string seedDir, string name, int size, int pieceLength, int seed = 7, TorrentVersion version = TorrentVersion.V1)
    {
        var path = Path.Combine(seedDir, name);
        await File.WriteAllBytesAsync(path, RandomBytes(size, seed));
        return await TorrentCreator.CreateFromPathAsync(path, new TorrentCreateOptions { PieceLength = pieceLength, Version = version });
    }

    public static byte[] RandomBytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Asserts every file of the torrent is byte-identical under both directories.</summary>
    public static void AssertSameFiles(TorrentInfo info, string expectedDir, string actualDir)
    {
        foreach (var file in info.Files.Where(f => !f.IsPadding))
        {
            var expected = File.ReadAllBytes(file.GetFullPath(expectedDir));
            var actual = File.ReadAllBytes(file.GetFullPath(actualDir));
            Assert.Equal(expected.Length, actual.Length);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{file.RelativePath} differs");
        }
    }

    public static TorrentClient NewClient() => new(new TorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
