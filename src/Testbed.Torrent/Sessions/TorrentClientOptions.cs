using System.Net;

namespace Testbed.Torrent.Sessions;

/// <summary>Settings shared by every torrent of a client: where it listens and its socket tuning.</summary>
public sealed record TorrentClientOptions
{
    /// <summary>Where to accept peers (port 0 picks a free port); null for a client that only dials out.</summary>
    public IPEndPoint? ListenEndPoint { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>
    /// The local address outgoing peer connections are bound to; null lets the OS choose. A node behind a fault proxy
    /// dials from its own address so the proxy can tell who dialled.
    /// </summary>
    public IPAddress? OutgoingAddress { get; init; }

    /// <summary>Our 20-byte peer id; a fresh random one when null.</summary>
    public byte[]? PeerId { get; init; }

    /// <summary>Socket send/receive buffer size in bytes; null leaves the kernel's autotuning on.</summary>
    public int? SocketBufferSize { get; init; }

    /// <summary>Incoming connections allowed to be mid-handshake at once.</summary>
    public int MaxPendingHandshakes { get; init; } = 64;

    /// <summary>Time an incoming peer has to send its handshake.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
