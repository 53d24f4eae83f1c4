using System.Security.Cryptography;

namespace Testbed.Torrent.Storage;

/// <summary>How a torrent's bytes split into pieces and files, and the SHA-1 every piece must match.</summary>
public sealed class TorrentLayout
{
    private readonly byte[] pieceHashes;
    private readonly long[] fileStarts;

    /// <summary>Creates a layout; the files are laid end to end in order, pieces cover them all.</summary>
    public TorrentLayout(int pieceLength, IReadOnlyList<FileSpan> files, byte[] pieceHashes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceLength, 1);
        if (files.Count == 0)
        {
            throw new ArgumentException("a torrent has at least one file", nameof(files));
        }

        PieceLength = pieceLength;
        Files = files;
        fileStarts = new long[files.Count];
        long total = 0;
        for (var i = 0; i < files.Count; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(files[i].Length);
            fileStarts[i] = total;
            total += files[i].Length;
        }

        TotalLength = total;
        PieceCount = (int)((total + pieceLength - 1) / pieceLength);
        if (pieceHashes.Length != PieceCount * 20)
        {
            throw new ArgumentException($"{pieceHashes.Length / 20} piece hashes for {PieceCount} pieces", nameof(pieceHashes));
        }

        this.pieceHashes = pieceHashes;
    }

    /// <summary>The layout of a parsed info dictionary.</summary>
    public static TorrentLayout FromInfo(Metainfo.TorrentInfo info) =>
        new(info.PieceLength, [.. info.Files.Select(f => new FileSpan(Path.Combine([.. f.Path]), f.Length, f.IsPadding))], info.PieceHashes.ToArray());

    /// <summary>Nominal piece length; the last piece may be shorter.</summary>
    public int PieceLength { get; }

    /// <summary>Number of pieces.</summary>
    public int PieceCount { get; }

    /// <summary>Sum of the file lengths.</summary>
    public long TotalLength { get; }

    /// <summary>The files, in torrent order.</summary>
    public IReadOnlyList<FileSpan> Files { get; }

    /// <summary>Length of piece <paramref name="piece"/>.</summary>
    public int LengthOf(int piece) =>
        piece == PieceCount - 1 ? (int)(TotalLength - ((long)piece * PieceLength)) : PieceLength;

    /// <summary>Number of 16 KiB blocks in piece <paramref name="piece"/>.</summary>
    public int BlockCountOf(int piece) => (LengthOf(piece) + Messages.BlockRequest.StandardLength - 1) / Messages.BlockRequest.StandardLength;

    /// <summary>The expected SHA-1 of piece <paramref name="piece"/>.</summary>
    public ReadOnlySpan<byte> HashOf(int piece) => pieceHashes.AsSpan(piece * 20, 20);

    /// <summary>True when <paramref name="data"/> hashes to the expected SHA-1 of <paramref name="piece"/>.</summary>
    public bool Verify(int piece, ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[20];
        SHA1.HashData(data, digest);
        return digest.SequenceEqual(HashOf(piece));
    }

    /// <summary>True when the block lies inside piece bounds and is a whole standard block (or the piece's tail).</summary>
    public bool IsValidBlock(Messages.BlockRequest block) =>
        (uint)block.Piece < (uint)PieceCount
        && block.Begin >= 0
        && block.Begin % Messages.BlockRequest.StandardLength == 0
        && block.Length > 0
        && block.Length <= Messages.BlockRequest.StandardLength
        && (long)block.Begin + block.Length <= LengthOf(block.Piece);

    /// <summary>Enumerates the (file index, offset in file, offset in the range, count) pieces of a torrent byte range.</summary>
    public IEnumerable<(int File, long FileOffset, int RangeOffset, int Count)> Map(long offset, int count)
    {
        var index = Array.BinarySearch(fileStarts, offset);
        if (index < 0)
        {
            index = ~index - 1;
        }

        var done = 0;
        while (done < count && index < Files.Count)
        {
            var inFile = offset + done - fileStarts[index];
            var available = Files[index].Length - inFile;
            if (available <= 0)
            {
                index++;
                continue;
            }

            var take = (int)Math.Min(available, count - done);
            yield return (index, inFile, done, take);
            done += take;
            index++;
        }
    }
}
