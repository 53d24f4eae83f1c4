using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Metainfo;

/// <summary>A v1 .torrent: trackers, optional descriptive fields and the info dictionary.</summary>
public sealed class TorrentMetainfo
{
    private TorrentMetainfo(BencodeDictionary dictionary, TorrentInfo info)
    {
        Dictionary = dictionary;
        Info = info;
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

    /// <summary>The info hash (SHA-1 of the info dictionary as received).</summary>
    public InfoHash InfoHash => Info.InfoHash;

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
    public static TorrentMetainfo Create(TorrentInfo info, IReadOnlyList<IReadOnlyList<string>>? trackerTiers = null, string? comment = null, string? createdBy = null, DateTimeOffset? creationDate = null)
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
        // Reload from the encoding so every value carries the raw bytes it will be hashed and served as.
        return Load(dictionary.Encode());
    }

    /// <summary>The bencoded .torrent; the info dictionary re-encodes to exactly the bytes it was read from.</summary>
    public byte[] ToBytes() => Dictionary.Raw.IsEmpty ? Dictionary.Encode() : Dictionary.Raw.ToArray();

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
