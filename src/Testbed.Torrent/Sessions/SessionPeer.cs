using System.Net;
using Testbed.Torrent.Extensions;
using Testbed.Torrent.Messages;
using Testbed.Torrent.PeerWire;

namespace Testbed.Torrent.Sessions;

/// <summary>
/// What a session knows about one connected peer: choke and interest flags, availability, requests in flight, allowed-fast
/// sets, extension ids and counters. Changes when the per-peer protocol state changes; the transport is its
/// <see cref="Connection"/>. Every member is touched only under the owning session's lock (the connection's own members
/// are thread-safe), so the session keeps one lock for all its protocol state.
/// </summary>
internal sealed class SessionPeer
{
    public SessionPeer(PeerConnection connection, IPEndPoint? dialed, int pipelineDepth)
    {
        Connection = connection;
        ListenEndPoint = dialed;
        PipelineDepth = pipelineDepth;
        // The request timeout counts from here until the first request (filling an empty pipeline restarts it).
        LastBlockReceived = Environment.TickCount64;
    }

    /// <summary>The transport: socket, pipes, send queue, closed token.</summary>
    public PeerConnection Connection { get; }

    /// <summary>The remote handshake (peer id, reserved bits).</summary>
    public Handshake Remote => Connection.Remote;

    /// <summary>The remote address.</summary>
    public IPEndPoint RemoteEndPoint => Connection.RemoteEndPoint;

    /// <summary>Both sides set the BEP 6 bit.</summary>
    public bool FastEnabled => Connection.FastEnabled;

    /// <summary>Both sides set the BEP 10 bit.</summary>
    public bool ExtensionsEnabled => Connection.ExtensionsEnabled;

    /// <summary>Where the peer accepts connections (its address plus the BEP 10 `p` port, or the outgoing endpoint).</summary>
    public IPEndPoint? ListenEndPoint { get; set; }

    /// <summary>Why the session dropped this peer (banned, timed out, broke the protocol); null when the peer closed the connection itself.</summary>
    public string? DropReason { get; set; }

    /// <summary>We choke the peer (it may not download from us).</summary>
    public bool AmChoking { get; set; } = true;

    /// <summary>We want pieces the peer has.</summary>
    public bool AmInterested { get; set; }

    /// <summary>The peer chokes us.</summary>
    public bool PeerChoking { get; set; } = true;

    /// <summary>The peer wants pieces we have.</summary>
    public bool PeerInterested { get; set; }

    /// <summary>Pieces the peer has (null until its bitfield is known and the metadata too).</summary>
    public Bitfield? PeerHas { get; set; }

    /// <summary>A bitfield or have-all that arrived before we had the metadata (magnet), applied once we do.</summary>
    public object? PendingAvailability { get; set; }

    /// <summary>True once a bitfield, have all, have none or have was received (a bitfield after that is a violation).</summary>
    public bool AvailabilityReceived { get; set; }

    /// <summary>Blocks we requested and still wait for.</summary>
    public HashSet<BlockRequest> Outstanding { get; } = [];

    /// <summary>How many requests we keep in flight to this peer (adapted to its rate).</summary>
    public int PipelineDepth { get; set; }

    /// <summary>Pieces the peer lets us fetch while choked (BEP 6 allowed fast).</summary>
    public HashSet<int> AllowedFastFromPeer { get; } = [];

    /// <summary>Pieces we let the peer fetch while choked.</summary>
    public HashSet<int> AllowedFastForPeer { get; } = [];

    /// <summary>The peer's BEP 10 handshake values (message ids it assigned, its queue depth, metadata size).</summary>
    public ExtensionHandshake? RemoteExtensions { get; set; }

    /// <summary>Blocks we cancelled (endgame) or dropped (choke) that may still arrive legitimately; bounded.</summary>
    public HashSet<BlockRequest> RecentlyCancelled { get; } = [];

    /// <summary>Blocks received from the peer that we did not ask for (bounded; too many drops the peer).</summary>
    public int UnexpectedBlocks { get; set; }

    /// <summary>Payload bytes received from the peer.</summary>
    public long BytesDown { get; set; }

    /// <summary>Payload bytes sent to the peer (counted by the connection's writer).</summary>
    public long BytesUp => Connection.BytesUp;

    /// <summary>Bytes down at the last rate sample.</summary>
    public long BytesDownAtSample { get; set; }

    /// <summary>Bytes up at the last rate sample.</summary>
    public long BytesUpAtSample { get; set; }

    /// <summary>Download rate measured at the last sample (bytes per second).</summary>
    public double DownloadRate { get; set; }

    /// <summary>Upload rate measured at the last sample (bytes per second).</summary>
    public double UploadRate { get; set; }

    /// <summary>Tick count of the last block received (or of the last time we had nothing outstanding).</summary>
    public long LastBlockReceived { get; set; }

    /// <summary>Tick count at which the next peer exchange message to this peer is due.</summary>
    public long NextPex { get; set; } = long.MaxValue;

    /// <summary>Peers already told to this peer by PEX, so each message carries only the changes.</summary>
    public HashSet<IPEndPoint> PexSent { get; } = [];

    /// <summary>When the current one-second window of hash requests from the peer started.</summary>
    public long HashRequestWindowStart { get; set; }

    /// <summary>Hash requests the peer sent in the current window (a bound on the hashing work it can cause).</summary>
    public int HashRequestsInWindow { get; set; }

    /// <summary>Queues a message on the connection; never blocks.</summary>
    public void Send(PeerMessage message) => Connection.Send(message);

    /// <summary>Starts closing the connection.</summary>
    public void Close() => Connection.Close();

    /// <summary>Samples the transfer rates over the last <paramref name="seconds"/>.</summary>
    public void SampleRates(double seconds)
    {
        DownloadRate = (BytesDown - BytesDownAtSample) / seconds;
        UploadRate = (BytesUp - BytesUpAtSample) / seconds;
        BytesDownAtSample = BytesDown;
        BytesUpAtSample = BytesUp;
    }
}
