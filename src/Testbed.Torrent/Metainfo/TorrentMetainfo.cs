using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Metainfo;

/// <summary>A .torrent (v1, v2 or hybrid): trackers, optional descriptive fields, the info dictionary and BEP 52 piece layers.</summary>
public sealed class TorrentMetainfo
{
    private TorrentMetainfo(BencodeDictionary dictionary, TorrentInfo info)
    {
        Dictionary = dictionary;
        Info = info;
        PieceLayers = info.Version == TorrentVersion.V1 ? new Dictionary<PiecesRoot, ReadOnlyMemory<byte>>() : ReadPieceLayers(dictionary, info);
        Announce = dictionary.GetText("announce");
        AnnounceList = ReadAnnounceList(dictionary);
        Comment = dictionary.GetText("comment");
        CreatedBy = dictionary.GetText("created by");
        var created = dictionary.GetInteger("creation date");
        CreationDate = created is >= 0 and < 253402300800 ? DateTimeOffset.FromUnixTimeSeconds(created.Value) : null;
    }

    /// <summary>The whole decoded dictionary (unknown keys included).</summary>
    public BencodeDictionary Dictionary { get; }

    /// <summary>The info dictionary.</summary>
    public TorrentInfo Info { get; }

    /// <summary>The 20-byte info hash for the wire: SHA-1 of the info dictionary, or for v2-only the truncated SHA-256 (see <see cref="TorrentInfo.InfoHash"/>).</summary>
    public InfoHash InfoHash => Info.InfoHash;

    /// <summary>
    /// BEP 52 `piece layers`: for each file longer than one piece, its pieces root to the concatenated SHA-256
    /// hashes of its pieces, each checked to hash up to that root. Empty for v1-only torrents.
    /// </summary>
    public IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>> PieceLayers { get; }

    /// <summary>The `announce` URL, if any.</summary>
    public string? Announce { get; }

    /// <summary>The BEP 12 `announce-list` tiers as given (empty if absent).</summary>
    public IReadOnlyList<IReadOnlyList<string>> AnnounceList { get; }

    /// <summary>The `comment`, if any.</summary>
    public string? Comment { get; }

    /// <summary>The `created by`, if any.</summary>
    public string? CreatedBy { get; }

    /// <summary>The `creation date`, if any and in range.</summary>
    public DateTimeOffset? CreationDate { get; }

    /// <summary>Tracker tiers to use: `announce-list` when present (BEP 12), otherwise `announce` alone.</summary>
    public IReadOnlyList<IReadOnlyList<string>> TrackerTiers =>
        AnnounceList.Count > 0 ? AnnounceList
        : Announce is { Length: > 0 } ? [[Announce]]
        : [];

    /// <summary>Parses and validates .torrent bytes (not copied; do not change them afterwards).</summary>
    public static TorrentMetainfo Load(ReadOnlyMemory<byte> bytes, BencodeLimits? limits = null)
    {
        BencodeDictionary dictionary;
        try
        {
            dictionary = BencodeDecoder.DecodeDictionary(bytes, limits);
        }
        catch (BencodeException error)
        {
            throw new MetainfoException($"not a valid .torrent: {error.Message}", error);
        }

        return FromDictionary(dictionary);
    }

    /// <summary>Reads and parses a .torrent file; errors name the file.</summary>
    public static async Task<TorrentMetainfo> LoadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        // A regular file only (a directory, a device or a FIFO is refused by name), and never more bytes than any accepted .torrent.
        var bytes = await Testbed.IO.InputFiles.ReadAllBytesAsync(path, BencodeLimits.Default.MaxTotalSize, "torrent file", cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            return Load(bytes);
        }
        catch (MetainfoException error)
        {
            throw new MetainfoException($"{path}: {error.Message}", error);
        }
    }

    /// <summary>Validates a decoded metainfo dictionary.</summary>
    public static TorrentMetainfo FromDictionary(BencodeDictionary dictionary)
    {
        ArgumentNullException.ThrowIfNull(dictionary);
        try
        {
            var info = dictionary.Get<BencodeDictionary>("info") ?? throw new MetainfoException("no 'info' dictionary");
            return new TorrentMetainfo(dictionary, TorrentInfo.FromDictionary(info));
        }
        catch (BencodeException error)
        {
            throw new MetainfoException($"metainfo: {error.Problem}", error);
        }
    }

    /// <summary>Builds a metainfo around an info dictionary (for example one fetched for a magnet link).</summary>
    public static TorrentMetainfo Create(TorrentInfo info, IReadOnlyList<IReadOnlyList<string>>? trackerTiers = null, string? comment = null, string? createdBy = null, DateTimeOffset? creationDate = null, IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>>? pieceLayers = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        var dictionary = new BencodeDictionary();
        var tiers = (trackerTiers ?? []).Where(t => t.Count > 0).ToList();
        if (tiers.Count > 0)
        {
            dictionary["announce"] = tiers[0][0];
            if (tiers.Count > 1 || tiers[0].Count > 1)
            {
                dictionary["announce-list"] = new BencodeList(tiers.Select(t => (BencodeValue)new BencodeList(t.Select(u => (BencodeValue)u))));
            }
        }

        if (comment is not null)
        {
            dictionary["comment"] = comment;
        }

        if (createdBy is not null)
        {
            dictionary["created by"] = createdBy;
        }

        if (creationDate is not null)
        {
            dictionary["creation date"] = creationDate.Value.ToUnixTimeSeconds();
        }

        dictionary["info"] = info.Dictionary;
        if (info.Version != TorrentVersion.V1)
        {
            var layers = new BencodeDictionary();
            foreach (var (root, layer) in pieceLayers ?? new Dictionary<PiecesRoot, ReadOnlyMemory<byte>>())
            {
                layers.Add(new BencodeString(root.ToArray()), new BencodeString(layer));
            }

            dictionary["piece layers"] = layers;
        }

        // Reload from the encoding so every value carries the raw bytes it will be hashed and served as.
        return Load(dictionary.Encode());
    }

    /// <summary>The bencoded .torrent; the info dictionary re-encodes to exactly the bytes it was read from.</summary>
    public byte[] ToBytes() => Dictionary.Raw.IsEmpty ? Dictionary.Encode() : Dictionary.Raw.ToArray();

    private static Dictionary<PiecesRoot, ReadOnlyMemory<byte>> ReadPieceLayers(BencodeDictionary dictionary, TorrentInfo info)
    {
        var layers = dictionary.Get<BencodeDictionary>("piece layers") ?? new BencodeDictionary();
        var files = new Dictionary<PiecesRoot, TorrentFile>();
        foreach (var file in info.FileTree)
        {
            // Identical files share a root (and one layer); a layer serves any file of more than one piece.
            if (file.PiecesRoot is { } root && (!files.TryGetValue(root, out var known) || file.Length > known.Length))
            {
                files[root] = file;
            }
        }

        var result = new Dictionary<PiecesRoot, ReadOnlyMemory<byte>>();
        foreach (var (key, value) in layers)
        {
            if (key.Length != PiecesRoot.Length)
            {
                throw new MetainfoException($"'piece layers' has a key of {key.Length} bytes, not a {PiecesRoot.Length}-byte pieces root");
            }

            var root = new PiecesRoot(key.Bytes.Span);
            if (!files.TryGetValue(root, out var file))
            {
                throw new MetainfoException($"'piece layers' has an entry for {root}, the pieces root of no file");
            }

            if (file.Length <= info.PieceLength)
            {
                throw new MetainfoException($"'piece layers' has an entry for '{file.RelativePath}', which is not longer than one piece ({file.Length} bytes, pieces of {info.PieceLength})");
            }

            if (value is not BencodeString layer)
            {
                throw new MetainfoException($"'piece layers' entry for '{file.RelativePath}' is {BencodeEncoder.KindOf(value)}, not a string");
            }

            var pieces = (file.Length + info.PieceLength - 1) / info.PieceLength;
            if (layer.Length != pieces * MerkleTree.HashSize)
            {
                throw new MetainfoException($"piece layer of '{file.RelativePath}' is {layer.Length} bytes, but {file.Length} bytes in pieces of {info.PieceLength} need {pieces} hashes of {MerkleTree.HashSize} bytes ({pieces * MerkleTree.HashSize})");
            }

            if (MerkleTree.RootFromPieceLayer(layer.Bytes.Span, info.PieceLength) != root)
            {
                throw new MetainfoException($"piece layer of '{file.RelativePath}' does not hash to its pieces root {root}");
            }

            result[root] = layer.Bytes;
        }

        foreach (var file in files.Values.Where(f => f.Length > info.PieceLength).OrderBy(f => f.Offset))
        {
            if (!result.ContainsKey(file.PiecesRoot!.Value))
            {
                throw new MetainfoException($"'piece layers' has no entry for '{file.RelativePath}' ({file.Length} bytes, more than one piece of {info.PieceLength})");
            }
        }

        return result;
    }

    private static IReadOnlyList<IReadOnlyList<string>> ReadAnnounceList(BencodeDictionary dictionary)
    {
        var list = dictionary.Get<BencodeList>("announce-list");
        if (list is null)
        {
            return [];
        }

        var tiers = new List<IReadOnlyList<string>>();
        foreach (var tier in list)
        {
            if (tier is not BencodeList urls)
            {
                throw new MetainfoException("'announce-list' has a tier that is not a list");
            }

            var tierUrls = urls.Select(u => u is BencodeString s ? s.Text : throw new MetainfoException("'announce-list' has a URL that is not a string"))
                .Where(u => u.Length > 0)
                .ToList();
            if (tierUrls.Count > 0)
            {
                tiers.Add(tierUrls);
            }
        }

        return tiers;
    }
}
