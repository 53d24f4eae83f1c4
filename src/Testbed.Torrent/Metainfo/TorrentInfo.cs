using System.Text;
using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Metainfo;

/// <summary>
/// The info dictionary of a torrent, v1, v2 (BEP 52) or hybrid: name, piece length, piece hashes, file layout
/// and the `file tree`, plus the exact bytes it was decoded from and their hashes.
/// </summary>
public sealed class TorrentInfo
{
    /// <summary>Largest piece length accepted (libtorrent and others stay well below this).</summary>
    public const int MaxPieceLength = 128 << 20;

    /// <summary>Most files accepted in one torrent.</summary>
    public const int MaxFiles = 100_000;

    /// <summary>Deepest `file tree` accepted, in path components below the torrent's name.</summary>
    public const int MaxPathDepth = 32;

    /// <summary>Largest total length a `file tree` may describe (4 PiB): offsets never come near overflow.</summary>
    public const long MaxTotalLength = 1L << 52;

    /// <summary>Most pieces a v2-only torrent may have (its pieces are not bounded by a `pieces` string).</summary>
    public const int MaxV2PieceCount = 1 << 22;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private TorrentInfo(BencodeDictionary dictionary, TorrentVersion version, string name, int pieceLength, ReadOnlyMemory<byte> pieceHashes, IReadOnlyList<TorrentFile> files, IReadOnlyList<TorrentFile> fileTree, bool isMultiFile, bool isPrivate)
    {
        Dictionary = dictionary;
        Version = version;
        Name = name;
        PieceLength = pieceLength;
        PieceHashes = pieceHashes;
        Files = files;
        FileTree = fileTree;
        IsMultiFile = isMultiFile;
        IsPrivate = isPrivate;
        TotalLength = files.Count == 0 ? 0 : files[^1].Offset + files[^1].Length;
        PieceCount = version == TorrentVersion.V2 ? (int)((TotalLength + pieceLength - 1) / pieceLength) : pieceHashes.Length / InfoHash.Length;
        RawBytes = dictionary.Raw.IsEmpty ? dictionary.Encode() : dictionary.Raw;
        InfoHashV1 = version == TorrentVersion.V2 ? null : InfoHash.Compute(RawBytes.Span);
        InfoHashV2 = version == TorrentVersion.V1 ? null : Metainfo.InfoHashV2.Compute(RawBytes.Span);
        InfoHash = InfoHashV1 ?? InfoHashV2!.Value.Truncated;
    }

    /// <summary>The decoded dictionary (unknown keys included).</summary>
    public BencodeDictionary Dictionary { get; }

    /// <summary>The exact bencoded bytes of the info dictionary, as received; what BEP 9 serves as metadata.</summary>
    public ReadOnlyMemory<byte> RawBytes { get; }

    /// <summary>
    /// The 20-byte hash for handshakes, trackers and sessions: <see cref="InfoHashV1"/> when there is a v1 half,
    /// otherwise the truncated <see cref="InfoHashV2"/> (BEP 52).
    /// </summary>
    public InfoHash InfoHash { get; }

    /// <summary>SHA-1 of <see cref="RawBytes"/>, for v1 and hybrid torrents; null for v2-only.</summary>
    public InfoHash? InfoHashV1 { get; }

    /// <summary>SHA-256 of <see cref="RawBytes"/>, for v2 and hybrid torrents; null for v1-only.</summary>
    public InfoHashV2? InfoHashV2 { get; }

    /// <summary>Which halves the torrent has.</summary>
    public TorrentVersion Version { get; }

    /// <summary>The suggested file name (single-file) or directory name (multi-file).</summary>
    public string Name { get; }

    /// <summary>Bytes per piece (the last piece may be shorter).</summary>
    public int PieceLength { get; }

    /// <summary>The concatenated 20-byte SHA-1 hashes of the pieces (empty for a v2-only torrent).</summary>
    public ReadOnlyMemory<byte> PieceHashes { get; }

    /// <summary>Number of pieces (for v2-only, of the layout in which every file starts on a piece).</summary>
    public int PieceCount { get; }

    /// <summary>
    /// Files in torrent order, with their offsets in the concatenated data: the v1 list for v1 and hybrid
    /// torrents (pad files included), the v2 layout with pad files before unaligned files for v2-only.
    /// </summary>
    public IReadOnlyList<TorrentFile> Files { get; }

    /// <summary>The BEP 52 `file tree`'s files in tree order with their pieces roots (empty for v1-only); no pad files.</summary>
    public IReadOnlyList<TorrentFile> FileTree { get; }

    /// <summary>Whether the torrent uses the `files` layout (a directory) rather than `length`.</summary>
    public bool IsMultiFile { get; }

    /// <summary>The BEP 27 private flag.</summary>
    public bool IsPrivate { get; }

    /// <summary>Sum of all file lengths (pad files included).</summary>
    public long TotalLength { get; }

    /// <summary>The expected SHA-1 of a piece (v1 and hybrid torrents).</summary>
    public ReadOnlySpan<byte> GetPieceHash(int pieceIndex)
    {
        if (Version == TorrentVersion.V2)
        {
            throw new InvalidOperationException("a v2-only torrent has no SHA-1 piece hashes");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(pieceIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pieceIndex, PieceCount);
        return PieceHashes.Span.Slice(pieceIndex * InfoHash.Length, InfoHash.Length);
    }

    /// <summary>The size of a piece: <see cref="PieceLength"/>, except possibly the last.</summary>
    public int GetPieceSize(int pieceIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pieceIndex, PieceCount);
        return (int)Math.Min(PieceLength, TotalLength - ((long)pieceIndex * PieceLength));
    }

    /// <summary>Parses and validates bencoded info dictionary bytes (for example metadata received per BEP 9).</summary>
    public static TorrentInfo Parse(ReadOnlyMemory<byte> bencodedInfo, BencodeLimits? limits = null)
    {
        BencodeDictionary dictionary;
        try
        {
            dictionary = BencodeDecoder.DecodeDictionary(bencodedInfo, limits);
        }
        catch (BencodeException error)
        {
            throw new MetainfoException($"info dictionary is not valid bencode: {error.Message}", error);
        }

        return FromDictionary(dictionary);
    }

    /// <summary>Validates a decoded info dictionary. Its <see cref="BencodeValue.Raw"/> bytes, if any, are what gets hashed.</summary>
    public static TorrentInfo FromDictionary(BencodeDictionary info)
    {
        ArgumentNullException.ThrowIfNull(info);
        try
        {
            return Build(info);
        }
        catch (BencodeException error)
        {
            throw new MetainfoException($"info dictionary: {error.Problem}", error);
        }
    }

    private static TorrentInfo Build(BencodeDictionary info)
    {
        var name = Text(info.Get<BencodeString>("name") ?? throw new MetainfoException("info dictionary has no 'name'"), "name");
        PathSegments.Validate(name, "torrent name");

        var pieceLength = info.GetInteger("piece length") ?? throw new MetainfoException("info dictionary has no 'piece length'");
        if (pieceLength is <= 0 or > MaxPieceLength)
        {
            throw new MetainfoException($"piece length {pieceLength} is outside 1..{MaxPieceLength}");
        }

        var metaVersion = info.GetInteger("meta version");
        if (metaVersion is not (null or 2))
        {
            throw new MetainfoException($"'meta version' {metaVersion} is not supported (2 is BEP 52's)");
        }

        var hasV2 = metaVersion == 2;
        var hasV1 = info.ContainsKey("pieces") || info.ContainsKey("length") || info.ContainsKey("files");
        if (!hasV1 && !hasV2)
        {
            throw new MetainfoException(info.ContainsKey("file tree")
                ? "info dictionary has a 'file tree' but no 'meta version' 2"
                : "info dictionary has neither 'length' nor 'files'");
        }

        var tree = hasV2 ? info.Get<BencodeDictionary>("file tree") ?? throw new MetainfoException("'meta version' is 2 but there is no 'file tree'") : null;
        if (hasV2 && !MerkleTree.IsPieceLength(pieceLength))
        {
            throw new MetainfoException($"piece length {pieceLength} of a v2 torrent is not a power of two of at least {MerkleTree.BlockSize}");
        }

        var isPrivate = info.GetInteger("private") == 1;
        if (!hasV1)
        {
            var (treeFiles, multiFile) = FileTreeReader.Read(name, tree!, (int)pieceLength, v1MultiFile: null);
            var layout = FileTreeReader.WithPadFiles(treeFiles, name, multiFile);
            var total = layout[^1].Offset + layout[^1].Length;
            if ((total + pieceLength - 1) / pieceLength > MaxV2PieceCount)
            {
                throw new MetainfoException($"{total} bytes in pieces of {pieceLength} are more than {MaxV2PieceCount} pieces");
            }

            return new TorrentInfo(info, TorrentVersion.V2, name, (int)pieceLength, ReadOnlyMemory<byte>.Empty, layout, treeFiles, multiFile, isPrivate);
        }

        var (files, isMultiFile, pieces) = ReadV1(info, name, pieceLength);
        if (tree is null)
        {
            return new TorrentInfo(info, TorrentVersion.V1, name, (int)pieceLength, pieces, files, [], isMultiFile, isPrivate);
        }

        var (v2Files, _) = FileTreeReader.Read(name, tree, (int)pieceLength, isMultiFile);
        var merged = FileTreeReader.CheckAgreement(files, v2Files);
        return new TorrentInfo(info, TorrentVersion.Hybrid, name, (int)pieceLength, pieces, merged, v2Files, isMultiFile, isPrivate);
    }

    private static (List<TorrentFile> Files, bool IsMultiFile, ReadOnlyMemory<byte> Pieces) ReadV1(BencodeDictionary info, string name, long pieceLength)
    {
        var pieces = info.Get<BencodeString>("pieces") ?? throw new MetainfoException("info dictionary has no 'pieces'");
        if (pieces.Length % InfoHash.Length != 0)
        {
            throw new MetainfoException($"'pieces' is {pieces.Length} bytes, not a multiple of {InfoHash.Length}");
        }

        var length = info.Get<BencodeInteger>("length");
        var fileList = info.Get<BencodeList>("files");
        if (length is not null && fileList is not null)
        {
            throw new MetainfoException("info dictionary has both 'length' and 'files'");
        }

        List<TorrentFile> files;
        if (length is not null)
        {
            if (length.Value < 0)
            {
                throw new MetainfoException($"file length {length.Value} is negative");
            }

            files = [new TorrentFile([name], length.Value, 0)];
        }
        else if (fileList is not null)
        {
            files = ReadFiles(name, fileList);
        }
        else
        {
            throw new MetainfoException("info dictionary has neither 'length' nor 'files'");
        }

        var total = files.Count == 0 ? 0 : files[^1].Offset + files[^1].Length;
        var expectedPieces = (total + pieceLength - 1) / pieceLength;
        if (pieces.Length / InfoHash.Length != expectedPieces)
        {
            throw new MetainfoException($"'pieces' holds {pieces.Length / InfoHash.Length} hashes but {total} bytes in pieces of {pieceLength} need {expectedPieces}");
        }

        return (files, fileList is not null, pieces.Bytes);
    }

    private static List<TorrentFile> ReadFiles(string name, BencodeList fileList)
    {
        if (fileList.Count == 0)
        {
            throw new MetainfoException("'files' is empty");
        }

        if (fileList.Count > MaxFiles)
        {
            throw new MetainfoException($"'files' has {fileList.Count} entries, more than {MaxFiles}");
        }

        var files = new List<TorrentFile>(fileList.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        for (var index = 0; index < fileList.Count; index++)
        {
            if (fileList[index] is not BencodeDictionary entry)
            {
                throw new MetainfoException($"files[{index}] is not a dictionary");
            }

            var fileLength = entry.GetInteger("length") ?? throw new MetainfoException($"files[{index}] has no 'length'");
            if (fileLength < 0)
            {
                throw new MetainfoException($"files[{index}] length {fileLength} is negative");
            }

            var pathList = entry.Get<BencodeList>("path") ?? throw new MetainfoException($"files[{index}] has no 'path'");
            if (pathList.Count == 0)
            {
                throw new MetainfoException($"files[{index}] has an empty 'path'");
            }

            var path = new List<string>(pathList.Count + 1) { name };
            foreach (var part in pathList)
            {
                var segment = Text(part as BencodeString ?? throw new MetainfoException($"files[{index}] path has a segment that is not a string"), $"files[{index}] path");
                PathSegments.Validate(segment, $"files[{index}] path segment");
                path.Add(segment);
            }

            var file = new TorrentFile(path, fileLength, offset, entry.GetText("attr")?.Contains('p', StringComparison.Ordinal) == true);
            // Pad files are never written, so only real files must have distinct paths: libtorrent names every
            // pad of the same size alike (.pad/N), and a hybrid of many files has many of them.
            if (!file.IsPadding && !seen.Add(file.RelativePath))
            {
                throw new MetainfoException($"files[{index}] repeats the path '{file.RelativePath}'");
            }

            files.Add(file);
            offset = checked(offset + fileLength);
        }

        // A file may not also be a directory of another file ("a" and "a/b").
        foreach (var file in files.Where(f => !f.IsPadding))
        {
            for (var depth = 1; depth < file.Path.Count; depth++)
            {
                var prefix = string.Join('/', file.Path.Take(depth));
                if (seen.Contains(prefix))
                {
                    throw new MetainfoException($"'{prefix}' is both a file and a directory of '{file.RelativePath}'");
                }
            }
        }

        return files;
    }

    private static string Text(BencodeString value, string what)
    {
        try
        {
            return StrictUtf8.GetString(value.Bytes.Span);
        }
        catch (DecoderFallbackException)
        {
            throw new MetainfoException($"{what} is not valid UTF-8");
        }
    }
}
