using System.Text;
using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Metainfo;

/// <summary>
/// The info dictionary of a v1 torrent: name, piece length, piece hashes and file layout, plus the
/// exact bytes it was decoded from and their SHA-1, the info hash.
/// </summary>
public sealed class TorrentInfo
{
    /// <summary>Largest piece length accepted (libtorrent and others stay well below this).</summary>
    public const int MaxPieceLength = 128 << 20;

    /// <summary>Most files accepted in one torrent.</summary>
    public const int MaxFiles = 100_000;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private TorrentInfo(BencodeDictionary dictionary, string name, int pieceLength, ReadOnlyMemory<byte> pieceHashes, IReadOnlyList<TorrentFile> files, bool isMultiFile, bool isPrivate)
    {
        Dictionary = dictionary;
        Name = name;
        PieceLength = pieceLength;
        PieceHashes = pieceHashes;
        Files = files;
        IsMultiFile = isMultiFile;
        IsPrivate = isPrivate;
        TotalLength = files.Count == 0 ? 0 : files[^1].Offset + files[^1].Length;
        RawBytes = dictionary.Raw.IsEmpty ? dictionary.Encode() : dictionary.Raw;
        InfoHash = InfoHash.Compute(RawBytes.Span);
    }

    /// <summary>The decoded dictionary (unknown keys included).</summary>
    public BencodeDictionary Dictionary { get; }

    /// <summary>The exact bencoded bytes of the info dictionary, as received; what BEP 9 serves as metadata.</summary>
    public ReadOnlyMemory<byte> RawBytes { get; }

    /// <summary>SHA-1 of <see cref="RawBytes"/>.</summary>
    public InfoHash InfoHash { get; }

    /// <summary>The suggested file name (single-file) or directory name (multi-file).</summary>
    public string Name { get; }

    /// <summary>Bytes per piece (the last piece may be shorter).</summary>
    public int PieceLength { get; }

    /// <summary>The concatenated 20-byte SHA-1 hashes of the pieces.</summary>
    public ReadOnlyMemory<byte> PieceHashes { get; }

    /// <summary>Number of pieces.</summary>
    public int PieceCount => PieceHashes.Length / InfoHash.Length;

    /// <summary>Files in torrent order, with their offsets in the concatenated data.</summary>
    public IReadOnlyList<TorrentFile> Files { get; }

    /// <summary>Whether the torrent uses the `files` layout (a directory) rather than `length`.</summary>
    public bool IsMultiFile { get; }

    /// <summary>The BEP 27 private flag.</summary>
    public bool IsPrivate { get; }

    /// <summary>Sum of all file lengths (pad files included).</summary>
    public long TotalLength { get; }

    /// <summary>The expected SHA-1 of a piece.</summary>
    public ReadOnlySpan<byte> GetPieceHash(int pieceIndex)
    {
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
            throw new MetainfoException(info.ContainsKey("file tree")
                ? "v2-only torrent (no 'length' or 'files'); only v1 and hybrid torrents are supported"
                : "info dictionary has neither 'length' nor 'files'");
        }

        var total = files.Count == 0 ? 0 : files[^1].Offset + files[^1].Length;
        var expectedPieces = (total + pieceLength - 1) / pieceLength;
        if (pieces.Length / InfoHash.Length != expectedPieces)
        {
            throw new MetainfoException($"'pieces' holds {pieces.Length / InfoHash.Length} hashes but {total} bytes in pieces of {pieceLength} need {expectedPieces}");
        }

        var isPrivate = info.GetInteger("private") == 1;
        return new TorrentInfo(info, name, (int)pieceLength, pieces.Bytes, files, fileList is not null, isPrivate);
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
            if (!seen.Add(file.RelativePath))
            {
                throw new MetainfoException($"files[{index}] repeats the path '{file.RelativePath}'");
            }

            files.Add(file);
            offset = checked(offset + fileLength);
        }

        // A file may not also be a directory of another file ("a" and "a/b").
        foreach (var file in files)
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
