using System.Numerics;
using System.Security.Cryptography;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Storage;

/// <summary>
/// How a torrent's bytes split into pieces and files, and what every piece must match: its SHA-1 (v1), the merkle
/// root of its 16 KiB blocks (BEP 52, v2), or both (hybrid).
/// </summary>
public sealed class TorrentLayout
{
    private readonly byte[] _pieceHashes;
    private readonly long[] _fileStarts;
    private MerklePieces? _merkle;

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
        _fileStarts = new long[files.Count];
        long total = 0;
        for (var i = 0; i < files.Count; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(files[i].Length);
            _fileStarts[i] = total;
            total += files[i].Length;
        }

        TotalLength = total;
        PieceCount = (int)((total + pieceLength - 1) / pieceLength);
        if (pieceHashes.Length != PieceCount * 20 && pieceHashes.Length != 0)
        {
            throw new ArgumentException($"{pieceHashes.Length / 20} piece hashes for {PieceCount} pieces", nameof(pieceHashes));
        }

        _pieceHashes = pieceHashes;
    }

    /// <summary>
    /// The layout of a parsed info dictionary. For a v2 or hybrid torrent the pieces are also checked against their merkle
    /// roots: from <paramref name="pieceLayers"/> for files longer than one piece, from the pieces root otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">A v2-only torrent lacks the piece layer of a file longer than one piece.</exception>
    public static TorrentLayout FromInfo(TorrentInfo info, IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>>? pieceLayers = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        List<FileSpan> files = [.. info.Files.Select(f => new FileSpan(Path.Combine([.. f.Path]), f.Length, f.IsPadding))];
        if (info.Version == TorrentVersion.V2 && info.TotalLength % info.PieceLength is var tail and > 0)
        {
            // libtorrent pads a v2 torrent's last file to a whole piece as well, so its last piece is full length and it asks
            // for blocks of zeros past the data; the same grid here serves and requests them (the merkle check ignores them).
            files.Add(new FileSpan(Path.Combine(".pad", "tail"), info.PieceLength - tail, IsPadding: true));
        }

        var layout = new TorrentLayout(info.PieceLength, files, info.PieceHashes.ToArray());
        if (info.Version != TorrentVersion.V1)
        {
            layout._merkle = MerklePieces.Build(info, pieceLayers ?? new Dictionary<PiecesRoot, ReadOnlyMemory<byte>>());
        }

        return layout;
    }

    /// <summary>True when pieces are checked by SHA-1 (v1 and hybrid torrents).</summary>
    public bool HasSha1 => _pieceHashes.Length != 0;

    /// <summary>True when pieces are checked against merkle roots (v2 and hybrid torrents whose files start on pieces).</summary>
    public bool HasMerkle => _merkle is not null;

    /// <summary>The v2 file whose data piece <paramref name="piece"/> holds, and the piece's index within it; null without merkle data.</summary>
    public (TorrentFile File, int PieceInFile)? FileOfPiece(int piece) => _merkle?.FileOf(piece);

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
    public ReadOnlySpan<byte> HashOf(int piece) => _pieceHashes.AsSpan(piece * 20, 20);

    /// <summary>
    /// True when <paramref name="data"/> is piece <paramref name="piece"/>: it hashes to the expected SHA-1 (v1, hybrid) and its
    /// 16 KiB blocks hash up to the expected merkle node (v2, hybrid). Every block is covered before anything is written.
    /// </summary>
    public bool Verify(int piece, ReadOnlySpan<byte> data)
    {
        if (HasSha1)
        {
            Span<byte> digest = stackalloc byte[20];
            SHA1.HashData(data, digest);
            if (!digest.SequenceEqual(HashOf(piece)))
            {
                return false;
            }
        }

        return _merkle is null ? HasSha1 : _merkle.Verify(piece, data);
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
        var index = Array.BinarySearch(_fileStarts, offset);
        if (index < 0)
        {
            index = ~index - 1;
        }

        var done = 0;
        while (done < count && index < Files.Count)
        {
            var inFile = offset + done - _fileStarts[index];
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

    /// <summary>The BEP 52 check of every piece: the node of its file's merkle tree its blocks must hash up to.</summary>
    private sealed class MerklePieces
    {
        private readonly byte[] _expected;
        private readonly bool[] _known;
        private readonly int[] _dataLength;
        private readonly int[] _width;
        private readonly int[] _fileOf;
        private readonly int[] _firstPiece;
        private readonly IReadOnlyList<TorrentFile> _files;

        private MerklePieces(int pieceCount, IReadOnlyList<TorrentFile> files)
        {
            _expected = new byte[pieceCount * MerkleTree.HashSize];
            _known = new bool[pieceCount];
            _dataLength = new int[pieceCount];
            _width = new int[pieceCount];
            _fileOf = new int[pieceCount];
            Array.Fill(_fileOf, -1);
            _firstPiece = new int[files.Count];
            _files = files;
        }

        public static MerklePieces? Build(TorrentInfo info, IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>> layers)
        {
            var pieceLength = info.PieceLength;
            var real = info.Files.Where(f => !f.IsPadding && f.Length > 0).ToList();
            // BEP 52 pieces are per file; a hybrid's v1 grid is the same grid only when pad files start every file on a piece.
            if (real.Any(f => f.Offset % pieceLength != 0))
            {
                return info.Version == TorrentVersion.V2
                    ? throw new InvalidOperationException("a v2 layout always starts files on piece boundaries")
                    : null;
            }

            var result = new MerklePieces(info.PieceCount, real);
            for (var f = 0; f < real.Count; f++)
            {
                var file = real[f];
                var root = file.PiecesRoot ?? throw new ArgumentException($"'{file.RelativePath}' has no pieces root", nameof(info));
                var first = (int)(file.Offset / pieceLength);
                var pieces = (int)((file.Length + pieceLength - 1) / pieceLength);
                result._firstPiece[f] = first;
                ReadOnlyMemory<byte>? layer = null;
                if (pieces > 1)
                {
                    if (layers.TryGetValue(root, out var l))
                    {
                        layer = l;
                    }
                    else if (info.Version == TorrentVersion.V2)
                    {
                        // Without the layer nothing of this file could be checked: refuse rather than write unchecked data.
                        throw new ArgumentException($"'{file.RelativePath}' is longer than one piece and its piece layer is missing (fetching piece layers with hash requests is not implemented)", nameof(layers));
                    }
                }

                for (var k = 0; k < pieces; k++)
                {
                    var piece = first + k;
                    result._fileOf[piece] = f;
                    result._dataLength[piece] = (int)Math.Min(pieceLength, file.Length - ((long)k * pieceLength));
                    if (pieces == 1)
                    {
                        // A file of one piece or less: its blocks, padded to a power of two, hash straight to the pieces root.
                        result._width[piece] = (int)BitOperations.RoundUpToPowerOf2((uint)MerkleTree.BlockCount(file.Length));
                        root.CopyTo(result._expected.AsSpan(piece * MerkleTree.HashSize));
                        result._known[piece] = true;
                    }
                    else if (layer is { } hashes)
                    {
                        result._width[piece] = MerkleTree.BlocksPerPiece(pieceLength);
                        hashes.Span.Slice(k * MerkleTree.HashSize, MerkleTree.HashSize).CopyTo(result._expected.AsSpan(piece * MerkleTree.HashSize));
                        result._known[piece] = true;
                    }
                }
            }

            return result;
        }

        public (TorrentFile File, int PieceInFile)? FileOf(int piece) =>
            (uint)piece < (uint)_fileOf.Length && _fileOf[piece] is var f and >= 0 ? (_files[f], piece - _firstPiece[f]) : null;

        public bool Verify(int piece, ReadOnlySpan<byte> data)
        {
            if (!_known[piece])
            {
                // Only a hybrid without piece layers gets here; its SHA-1 check already passed.
                return true;
            }

            if (data.Length < _dataLength[piece])
            {
                return false;
            }

            var root = MerkleTree.Root(MerkleTree.HashBlocks(data[.._dataLength[piece]]), 0, _width[piece]);
            return root.AsSpan().SequenceEqual(_expected.AsSpan(piece * MerkleTree.HashSize, MerkleTree.HashSize));
        }
    }
}
