namespace Testbed.Torrent.Metainfo;

/// <summary>
/// One file of a torrent. <see cref="Path"/> is relative to the download directory: for a
/// multi-file torrent it starts with the torrent's name (its directory), for a single-file
/// torrent it is just the name. Every segment has been checked to be safe (no `..`, no root).
/// </summary>
/// <param name="Path">Path segments relative to the download directory.</param>
/// <param name="Length">Size in bytes.</param>
/// <param name="Offset">Offset of the file's first byte in the torrent's concatenated data.</param>
/// <param name="IsPadding">A BEP 47 pad file (attr contains 'p'): zeros, never written to disk.</param>
/// <param name="PiecesRoot">The BEP 52 merkle root of a non-empty file of a v2 or hybrid torrent; null otherwise.</param>
public sealed record TorrentFile(IReadOnlyList<string> Path, long Length, long Offset, bool IsPadding = false, PiecesRoot? PiecesRoot = null)
{
    /// <summary>The path joined with '/'.</summary>
    public string RelativePath => string.Join('/', Path);

    /// <summary>The path under <paramref name="directory"/> with the platform's separator.</summary>
    public string GetFullPath(string directory) => System.IO.Path.Combine([directory, .. Path]);

    /// <inheritdoc />
    public bool Equals(TorrentFile? other) =>
        other is not null && Path.SequenceEqual(other.Path, StringComparer.Ordinal) && Length == other.Length && Offset == other.Offset && IsPadding == other.IsPadding && PiecesRoot == other.PiecesRoot;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(RelativePath, Length, Offset, IsPadding);
}
