using System.Runtime.InteropServices;
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

    [Theory]
    [InlineData(Source.Unaligned)]
    [InlineData(Source.PageAligned)]
    [InlineData(Source.OneBytePastPage)]
    public void Large_pieces_across_unaligned_file_boundaries_land_byte_for_byte_in_any_order(Source source)
    {
        // Pieces of 256 KiB: their page-aligned middles are written directly to the device where the filesystem allows it
        // (from the piece's own memory when it starts on a page, else through a bounce buffer; a direct write the kernel
        // refuses falls back to the page cache), the partial pages around file and piece boundaries through the page cache;
        // every byte must land either way.
        using var t = new TestTorrents();
        const int pieceLength = 256 * 1024;
        var sizes = new[] { 300_001, 0, 700_003, 5_000, 131_072 };
        var content = TestTorrents.RandomBytes(sizes.Sum(), 7);
        var files = sizes.Select((size, i) => new FileSpan($"f{i}", size)).ToArray();
        var pieces = (content.Length + pieceLength - 1) / pieceLength;
        var hashes = new byte[pieces * 20];
        for (var i = 0; i < pieces; i++)
        {
            SHA1.HashData(content.AsSpan(i * pieceLength, Math.Min(pieceLength, content.Length - (i * pieceLength)))).CopyTo(hashes, i * 20);
        }

        var layout = new TorrentLayout(pieceLength, files, hashes);
        var dir = t.NewDirectory("data");
        using (var storage = new PieceStorage(layout, dir))
        {
            storage.EnsureFiles();
            foreach (var i in Enumerable.Range(0, pieces).Reverse())
            {
                var piece = content.AsSpan(i * pieceLength, layout.LengthOf(i));
                if (source == Source.Unaligned)
                {
                    storage.WritePiece(i, piece);
                }
                else
                {
                    // A pinned copy whose window starts on a page boundary, or one byte past it.
                    var pinned = GC.AllocateUninitializedArray<byte>(piece.Length + 8192, pinned: true);
                    var address = (long)Marshal.UnsafeAddrOfPinnedArrayElement(pinned, 0);
                    var start = (int)((4096 - (address % 4096)) % 4096) + (source == Source.OneBytePastPage ? 1 : 0);
                    piece.CopyTo(pinned.AsSpan(start));
                    storage.WritePiece(i, pinned.AsSpan(start, piece.Length));
                }

                // Read back at once through the ordinary handle, as a seeder serving the piece would.
                var back = new byte[layout.LengthOf(i)];
                Assert.Equal(back.Length, storage.Read(i, 0, back));
                Assert.Equal(content.AsSpan(i * pieceLength, back.Length).ToArray(), back);
            }

            Assert.True(storage.Check().IsComplete);
        }

        var offset = 0;
        for (var i = 0; i < sizes.Length; i++)
        {
            Assert.Equal(content.AsSpan(offset, sizes[i]).ToArray(), File.ReadAllBytes(Path.Combine(dir, $"f{i}")));
            offset += sizes[i];
        }
    }

    [Fact]
    public void A_path_leaving_the_directory_is_refused()
    {
        using var t = new TestTorrents();
        var layout = new TorrentLayout(16, [new FileSpan(Path.Combine("..", "escape"), 16)], new byte[20]);
        Assert.Throws<InvalidDataException>(() => new PieceStorage(layout, t.NewDirectory("data")));
    }

    /// <summary>Where a written piece's bytes sit in memory.</summary>
    public enum Source
    {
        /// <summary>Anywhere (a slice of a managed array): through the bounce buffer, unless it happens to start on a page.</summary>
        Unaligned,

        /// <summary>On a page boundary: the direct part is written in place.</summary>
        PageAligned,

        /// <summary>Pinned, one byte past a page boundary: the direct part goes through the bounce buffer.</summary>
        OneBytePastPage,
    }
}
