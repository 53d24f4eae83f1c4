using System.Net;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Trackers;

/// <summary>What a client tells a tracker when it announces (BEP 3 / BEP 15 fields).</summary>
public sealed record AnnounceRequest
{
    /// <summary>Creates a request; the peer id must be exactly 20 bytes and the port 1..65535.</summary>
    public AnnounceRequest(InfoHash infoHash, ReadOnlyMemory<byte> peerId, int port)
    {
        if (peerId.Length != 20)
        {
            throw new ArgumentException($"a peer id is 20 bytes, got {peerId.Length}", nameof(peerId));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        InfoHash = infoHash;
        PeerId = peerId;
        Port = port;
    }

    /// <summary>The torrent.</summary>
    public InfoHash InfoHash { get; }

    /// <summary>This client's 20-byte peer id.</summary>
    public ReadOnlyMemory<byte> PeerId { get; }

    /// <summary>The port this client accepts peer connections on.</summary>
    public int Port { get; }

    /// <summary>Bytes uploaded this session.</summary>
    public long Uploaded { get; init; }

    /// <summary>Bytes downloaded this session.</summary>
    public long Downloaded { get; init; }

    /// <summary>Bytes still missing.</summary>
    public long Left { get; init; }

    /// <summary>The event, if any.</summary>
    public TrackerEvent Event { get; init; }

    /// <summary>How many peers to ask for; null lets the tracker choose.</summary>
    public int? NumWant { get; init; } = 50;

    /// <summary>A random value that identifies this client across IP changes.</summary>
    public uint Key { get; init; }

    /// <summary>An address to report instead of the one the tracker sees (optional).</summary>
    public IPAddress? Address { get; init; }
}
