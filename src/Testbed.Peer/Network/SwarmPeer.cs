using System.Net;
using System.Numerics;
using Testbed.Peer.Network.Messages;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Messages;
using Testbed.Torrent.PeerWire;

namespace Testbed.Peer.Network;

/// <summary>One connection of the network swarm: the remote's identity and ports from its extension handshake, and a way to send it extension messages.</summary>
public sealed class SwarmPeer
{
    private readonly Lock _gate = new();
    private IReadOnlyDictionary<string, byte> _remoteIds = new Dictionary<string, byte>();
    private long _claimedHeight;
    private BigInteger _claimedWork;

    internal SwarmPeer(PeerConnection connection, bool dialedByUs)
    {
        Connection = connection;
        DialedByUs = dialedByUs;
        PeerId = Convert.ToHexStringLower(connection.Remote.PeerId);
    }

    internal PeerConnection Connection { get; }

    /// <summary>True when we opened the connection.</summary>
    public bool DialedByUs { get; }

    /// <summary>The remote's BitTorrent peer id, hex.</summary>
    public string PeerId { get; }

    /// <summary>The remote's testbed peer name (from its handshake).</summary>
    public string Name { get; private set; } = "?";

    /// <summary>The remote's address.</summary>
    public IPAddress Address => Connection.RemoteEndPoint.Address;

    /// <summary>Where the remote accepts swarm connections.</summary>
    public IPEndPoint? SwarmEndPoint { get; private set; }

    /// <summary>Where the remote serves block and segment torrents.</summary>
    public IPEndPoint? TorrentEndPoint { get; private set; }

    /// <summary>Where the remote's DHT node listens, when it runs one (handshake key <c>tb_dht</c>, compact IPv4 and port, loopback only).</summary>
    public IPEndPoint? DhtEndPoint { get; private set; }

    /// <summary>The remote's HTTP API base URL, when it told us.</summary>
    public string? HttpUrl { get; private set; }

    /// <summary>The height of the remote's tip with the most work it claimed (a hint for catch-up, never trusted).</summary>
    public long ClaimedHeight
    {
        get
        {
            lock (_gate)
            {
                return _claimedHeight;
            }
        }
    }

    /// <summary>The most cumulative work the remote claimed (a hint for catch-up, never trusted).</summary>
    public BigInteger ClaimedWork
    {
        get
        {
            lock (_gate)
            {
                return _claimedWork;
            }
        }
    }

    /// <summary>True once the remote's extension handshake arrived.</summary>
    public bool Ready { get; private set; }

    internal void ApplyHandshake(BencodeDictionary dict)
    {
        var ids = new Dictionary<string, byte>(StringComparer.Ordinal);
        if (dict.TryGetValue("m", out var m) && m is BencodeDictionary map)
        {
            foreach (var (key, value) in map)
            {
                if (value is BencodeInteger { Value: > 0 and <= 255 } id && ids.Count < 64)
                {
                    ids[key.Text] = (byte)id.Value;
                }
            }
        }

        lock (_gate)
        {
            _remoteIds = ids;
        }

        Name = SwarmMessages.Text(dict, "tb_name", 128) ?? "?";
        HttpUrl = SwarmMessages.Text(dict, "tb_http", 256);
        if (SwarmMessages.Integer(dict, "p") is { } p and > 0 and <= 65535)
        {
            SwarmEndPoint = new IPEndPoint(Address, (int)p);
        }

        if (SwarmMessages.Integer(dict, "tb_tport") is { } t and > 0 and <= 65535)
        {
            TorrentEndPoint = new IPEndPoint(Address, (int)t);
        }

        DhtEndPoint = SwarmMessages.Bytes(dict, "tb_dht", 6) is { Length: 6 } dht && SwarmMessages.CompactEndPoint(dht) is { } endPoint && IPAddress.IsLoopback(endPoint.Address)
            ? endPoint
            : null;
        RecordClaim(SwarmMessages.Integer(dict, "tb_height") ?? 0, SwarmMessages.WorkFromHex(SwarmMessages.Text(dict, "tb_work", 80)) ?? BigInteger.Zero);
        Ready = true;
    }

    /// <summary>
    /// Records a tip the remote claims (handshake, announcement, tip report): the one writer of <see cref="ClaimedWork"/>
    /// and <see cref="ClaimedHeight"/>, which only rise, since a chain's best work never falls.
    /// </summary>
    public void RecordClaim(long height, BigInteger work)
    {
        lock (_gate)
        {
            if (work >= _claimedWork)
            {
                _claimedWork = work;
                _claimedHeight = height;
            }
        }
    }

    /// <summary>Sends a message if the remote supports its extension; false when it does not or the connection is closing.</summary>
    public bool Send(SwarmMessage message) => Send(message.Extension, message.Encode());

    /// <summary>Sends an encoded extension message if the remote supports it; false when it does not or the connection is closing.</summary>
    internal bool Send(string extension, BencodeDictionary payload)
    {
        byte id;
        lock (_gate)
        {
            if (!_remoteIds.TryGetValue(extension, out id))
            {
                return false;
            }
        }

        if (Connection.Closed.IsCancellationRequested)
        {
            return false;
        }

        Connection.Send(new ExtendedMessage(id, payload.Encode()));
        return true;
    }

    /// <summary>Closes the connection.</summary>
    public void Close() => Connection.Close();

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Connection.RemoteEndPoint})";
}
