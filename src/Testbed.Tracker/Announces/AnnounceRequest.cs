using Testbed.Tracker.Swarms;
using Testbed.Torrent.Metainfo;

namespace Testbed.Tracker.Announces;

/// <summary>One announce, already validated, as either transport delivers it.</summary>
/// <param name="InfoHash">The swarm.</param>
/// <param name="PeerId">The announcing peer's id.</param>
/// <param name="Port">The port the peer accepts connections on (0: it accepts none, so it is never handed out).</param>
/// <param name="Uploaded">Bytes uploaded so far.</param>
/// <param name="Downloaded">Bytes downloaded so far.</param>
/// <param name="Left">Bytes still missing; 0 makes the peer a seeder; -1 when the client did not say.</param>
/// <param name="Event">started, completed, stopped or none.</param>
/// <param name="NumWant">Peers wanted, or -1 for the tracker's default.</param>
/// <param name="Key">The client's `key` (hashed to 32 bits), proving identity across address changes; null when absent.</param>
/// <param name="ClaimedAddress">The `ip` the client claimed, used only when the tracker is configured to trust it.</param>
/// <param name="Compact">Whether to answer with a compact (BEP 23) peer list.</param>
/// <param name="NoPeerId">Whether to leave `peer id` out of a dictionary-model peer list.</param>
public readonly record struct AnnounceRequest(
    InfoHash InfoHash,
    PeerId PeerId,
    ushort Port,
    long Uploaded,
    long Downloaded,
    long Left,
    TrackerEvent Event,
    int NumWant,
    uint? Key,
    PeerAddress? ClaimedAddress,
    bool Compact,
    bool NoPeerId)
{
    /// <summary>A peer with nothing left to download is a seeder.</summary>
    public bool IsSeeder => Left == 0;
}
