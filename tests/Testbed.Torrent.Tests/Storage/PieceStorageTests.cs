using System.Security.Cryptography;
using Testbed.Torrent.Storage;

namespace Testbed.Torrent.Tests.Storage;

/// <summary>Pieces spanning files, pad files, resume checks, and paths that try to leave the directory.</summary>
public sealed class PieceStorageTests
{
    [Fact]
    public void Pieces_spanning_files_are_written_and_checked()
    {
        using var t = new TestTorrents();
        var content = TestTorrents.RandomBytes(100, 3);
        var pieceLength = 32;
        var files = new[] { new FileSpan("a", 10), new FileSpan(Path.Combine("d", "b"), 0), new FileSpan(Path.Combine("d", "c"), 90) };
        var hashes = new byte[4 * 20];
        for (var i = 0; i < 4; i++)
        {
            SHA1.HashData(content.AsSpan(i * pieceLength, Math.Min(pieceLength, 100 - (i * pieceLength)))).CopyTo(hashes, i * 20);
        }

        var layout = new TorrentLayout(pieceLength, files, hashes);
        Assert.Equal(4, layout.PieceCount);
        Assert.Equal(4, layout.LengthOf(3));
        var dir = t.NewDirectory("data");
        using (var storage = new PieceStorage(layout, dir))
        {
            Assert.Equal(0, storage.Check().Count);
            storage.EnsureFiles();
            for (var i = 0; i < 4; i++)
            {
                storage.WritePiece(i, content.AsSpan(i * pieceLength, layout.LengthOf(i)));
            }

            Assert.True(storage.Check().IsComplete);
        }

        Assert.Equal(content[..10], File.ReadAllBytes(Path.Combine(dir, "a")));
        Assert.Empty(File.ReadAllBytes(Path.Combine(dir, "d", "b")));
        Assert.Equal(content[10..], File.ReadAllBytes(Path.Combine(dir, "d", "c")));

        // Corrupt one byte of the second file: exactly the piece covering it fails the check.
        var c = File.ReadAllBytes(Path.Combine(dir, "d", "c"));
        c[60] ^= 1;
        File.WriteAllBytes(Path.Combine(dir, "d", "c"), c);
        using var reopened = new PieceStorage(layout, dir);
        var have = reopened.Check();
        Assert.Equal(3, have.Count);
        Assert.False(have[(10 + 60) / pieceLength]);
    }

    [Fact]
    public void A_path_leaving_the_directory_is_refused()
    {
        using var t = new TestTorrents();
        var layout = new TorrentLayout(16, [new FileSpan(Path.Combine("..", "escape"), 16)], new byte[20]);
        Assert.Throws<InvalidDataException>(() => new PieceStorage(layout, t.NewDirectory("data")));
    }
}
