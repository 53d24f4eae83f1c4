namespace Testbed.Torrent.Metainfo;

/// <summary>Which halves a torrent has: v1 (BEP 3), v2 (BEP 52) or both (a hybrid).</summary>
public enum TorrentVersion
{
    /// <summary>`pieces` and `length`/`files` only: SHA-1 pieces, one SHA-1 info hash.</summary>
    V1,

    /// <summary>`meta version` 2 with a `file tree` only: per-file SHA-256 merkle trees, one SHA-256 info hash.</summary>
    V2,

    /// <summary>Both halves over the same files (v1 padded so every file starts on a piece): two info hashes.</summary>
    Hybrid,
}
