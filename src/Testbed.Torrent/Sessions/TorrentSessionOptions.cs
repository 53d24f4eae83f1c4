namespace Testbed.Torrent.Sessions;

/// <summary>Tunables of one torrent session; the defaults follow common client practice.</summary>
public sealed record TorrentSessionOptions
{
    /// <summary>The testbed peer name recorded on spans (`testbed.peer`).</summary>
    public string? PeerName { get; init; }

    /// <summary>Most simultaneous peer connections.</summary>
    public int MaxPeers { get; init; } = 50;

    /// <summary>Peers unchoked by rate (the optimistic unchoke comes on top).</summary>
    public int UploadSlots { get; init; } = 4;

    /// <summary>How often the choker re-ranks peers; the optimistic unchoke rotates every third round.</summary>
    public TimeSpan ChokeInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often peer exchange messages go out (BEP 11: at most once a minute).</summary>
    public TimeSpan PexInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A keep-alive is sent after this much silence.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A peer silent for this long is disconnected.</summary>
    public TimeSpan PeerTimeout { get; init; } = TimeSpan.FromSeconds(150);

    /// <summary>A peer that leaves our requests unanswered for this long is disconnected and its requests re-issued.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for a TCP connect plus handshake.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests a peer may queue at us before it counts as a flood and is disconnected.</summary>
    public int MaxQueuedUploads { get; init; } = 1000;

    /// <summary>The request queue depth we advertise (`reqq`).</summary>
    public int AdvertisedRequestQueue { get; init; } = 500;

    /// <summary>How many requests are kept in flight to one peer, as its measured rate changes.</summary>
    public PipelineLimits Pipeline { get; init; } = new();

    /// <summary>
    /// Bytes of finished pieces waiting to be verified and written (a piece larger than this still passes alone). The peers'
    /// read loops hand pieces over and go on reading; when this much waits they stop reading until the disk catches up.
    /// </summary>
    public long MaxVerifyingBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Seed only: the files are never created, extended or written. <see cref="TorrentSession.StartAsync"/> fails with a
    /// <see cref="Storage.TorrentDataException"/> listing what is missing or wrong when the data is not complete.
    /// </summary>
    public bool ReadOnly { get; init; }

    /// <summary>Announce to the metainfo's trackers.</summary>
    public bool UseTrackers { get; init; } = true;

    /// <summary>Pieces of the allowed-fast set offered to each peer (BEP 6).</summary>
    public int AllowedFastCount { get; init; } = 4;

    /// <summary>Hash failures a peer may be part of (in mixed-source pieces) before it is banned.</summary>
    public int MaxHashFailures { get; init; } = 3;
}
