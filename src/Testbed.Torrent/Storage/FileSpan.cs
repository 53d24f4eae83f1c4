namespace Testbed.Torrent.Storage;

/// <summary>One file of a torrent: its path relative to the download directory, its length, and whether it is a BEP 47 pad file (zeros, never on disk).</summary>
public sealed record FileSpan(string RelativePath, long Length, bool IsPadding = false);
