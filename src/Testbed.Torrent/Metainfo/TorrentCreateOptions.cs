namespace Testbed.Torrent.Metainfo;

/// <summary>Choices for <see cref="TorrentCreator"/>.</summary>
public sealed record TorrentCreateOptions
{
    /// <summary>Tracker tiers (BEP 12); the first URL also becomes `announce`.</summary>
    public IReadOnlyList<IReadOnlyList<string>> TrackerTiers { get; init; } = [];

    /// <summary>Bytes per piece; null picks one from the total size (see <see cref="TorrentCreator.AutomaticPieceLength"/>).</summary>
    public int? PieceLength { get; init; }

    /// <summary>Optional `comment`.</summary>
    public string? Comment { get; init; }

    /// <summary>The `created by` field.</summary>
    public string? CreatedBy { get; init; } = "testbed";

    /// <summary>The `creation date`; null omits it (so the same input gives the same file).</summary>
    public DateTimeOffset? CreationDate { get; init; }

    /// <summary>v1 (the default), v2-only or hybrid (BEP 52); v2 and hybrid need a power-of-two piece length of at least 16 KiB.</summary>
    public TorrentVersion Version { get; init; } = TorrentVersion.V1;

    /// <summary>The BEP 27 private flag.</summary>
    public bool IsPrivate { get; init; }

    /// <summary>Tracker tiers from a flat list of URLs, one per tier.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> OneTierEach(IEnumerable<string> urls) =>
        [.. urls.Select(u => (IReadOnlyList<string>)[u])];
}
