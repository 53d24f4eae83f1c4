namespace Testbed.Contracts.Peers;

/// <summary>
/// One entry of a peer's block log: a block this process loaded from its own store at start-up, mined, or was handed (by an
/// announcement or catch-up), and what its chain did with it. <see cref="Seq"/> counts from 1 in each process
/// (its boot id).
/// </summary>
/// <param name="Seq">Position in this process's log.</param>
/// <param name="AtMs">When, unix milliseconds on the peer's (unskewed) clock.</param>
/// <param name="Via"><c>loaded</c> (read back from its own store before it talked to anyone), <c>mined</c>, <c>announce</c> or <c>sync</c>.</param>
/// <param name="Status">The chain's answer: Loaded, Connected, SideBranch, Reorganized, Orphan or Rejected.</param>
/// <param name="Accepted">Stored by this peer (loaded, connected, side branch, reorganised onto).</param>
/// <param name="Reason">Why a block was rejected.</param>
/// <param name="From">The peer that announced it, or the peers that offered its segment.</param>
public sealed record BlockLogEntry(long Seq, long AtMs, string Hash, long Height, string Via, string Status, bool Accepted, string? Reason = null, string? From = null);

/// <summary>A page of <c>GET /blocklog</c>: the process, the oldest entry it still holds, its last one, and the entries asked for.</summary>
public sealed record BlockLogPage(string Peer, string Boot, long StartedAtMs, long FirstSeq, long LastSeq, IReadOnlyList<BlockLogEntry> Entries);

/// <summary>Answer to <c>GET /consistency</c>: whether the peer's store and VM agree, and what does not.</summary>
public sealed record ConsistencyReport(
    string Peer, string Boot, bool Consistent, IReadOnlyList<string> Problems, bool Deep, long Height, string TipHash, string StateRoot, string LiveStateRoot, double ElapsedMs);
