namespace Testbed.Tracker.Swarms;

/// <summary>Why the swarm store did not take an announce; each maps to a `failure reason`.</summary>
public enum AnnounceRefusal
{
    /// <summary>Taken.</summary>
    None,

    /// <summary>The tracker already tracks its maximum number of torrents.</summary>
    TooManyTorrents,

    /// <summary>This torrent already has its maximum number of peers.</summary>
    SwarmFull,

    /// <summary>The tracker already tracks its maximum number of peers.</summary>
    TooManyPeers,

    /// <summary>The peer id is registered from another address under a different `key`.</summary>
    PeerIdInUse,
}

/// <summary>Human-readable text for refusals, sent to clients as `failure reason`.</summary>
public static class AnnounceRefusalText
{
    /// <summary>The failure reason for a refusal.</summary>
    public static string Describe(this AnnounceRefusal refusal) => refusal switch
    {
        AnnounceRefusal.TooManyTorrents => "tracker is full: too many torrents",
        AnnounceRefusal.SwarmFull => "swarm is full: too many peers on this torrent",
        AnnounceRefusal.TooManyPeers => "tracker is full: too many peers",
        AnnounceRefusal.PeerIdInUse => "peer_id is registered from another address with a different key",
        _ => "accepted",
    };
}
