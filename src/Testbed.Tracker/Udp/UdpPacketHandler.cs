using System.Buffers.Binary;
using System.Text;
using Testbed.Tracker.Announces;
using Testbed.Tracker.Swarms;
using Testbed.Torrent.Metainfo;

namespace Testbed.Tracker.Udp;

/// <summary>
/// BEP 15 request in, response out, on caller-owned buffers (no allocation on the announce path).
/// No amplification: a sender whose address is not verified (no valid connection id: its source address may be spoofed)
/// never gets an answer larger than its datagram. Packets too short to carry a transaction id, connect requests without the
/// protocol id and unknown actions from such senders are dropped; an announce or scrape with an unknown or expired connection
/// id gets an error cut to the request's size. A verified sender's bad request gets an error packet (action 3) whose message
/// names the problem.
/// </summary>
public sealed class UdpPacketHandler
{
    /// <summary>Largest response sent: the IPv4 minimum MTU-safe payload on Ethernet.</summary>
    public const int MaxResponseSize = 1472;

    // The datagram layout is BEP 15's, defined once in the torrent library's client side.
    private const ulong ProtocolId = UdpTrackerProtocol.ProtocolId;
    private const int AnnounceRequestSize = UdpTrackerProtocol.AnnounceRequestLength;
    private const int HeaderSize = UdpTrackerProtocol.ConnectRequestLength; // connection id, action, transaction id
    private const int ActionConnect = (int)UdpTrackerProtocol.Action.Connect;
    private const int ActionAnnounce = (int)UdpTrackerProtocol.Action.Announce;
    private const int ActionScrape = (int)UdpTrackerProtocol.Action.Scrape;
    private const int ActionError = (int)UdpTrackerProtocol.Action.Error;

    private readonly AnnounceService _announces;
    private readonly ConnectionIds _connectionIds;

    /// <summary>Creates a handler over the shared announce service.</summary>
    public UdpPacketHandler(AnnounceService announces, ConnectionIds connectionIds)
    {
        _announces = announces;
        _connectionIds = connectionIds;
    }

    /// <summary>The announce URL this handler serves (udp://HOST:PORT/announce), for spans; set once the socket is bound.</summary>
    public string? TrackerUrl { get; set; }

    /// <summary>
    /// Handles one datagram from <paramref name="client"/>; returns the number of response bytes
    /// written to <paramref name="response"/> (at least <see cref="MaxResponseSize"/> long), 0 for no reply.
    /// <paramref name="peerScratch"/> holds the peers picked for an announce.
    /// </summary>
    public int Handle(ReadOnlySpan<byte> packet, PeerAddress client, Span<byte> response, Span<PeerEndpoint> peerScratch)
    {
        if (packet.Length < HeaderSize)
        {
            return 0;
        }

        var connectionId = BinaryPrimitives.ReadUInt64BigEndian(packet);
        var action = BinaryPrimitives.ReadInt32BigEndian(packet[8..]);
        var transactionId = BinaryPrimitives.ReadInt32BigEndian(packet[12..]);

        if (action == ActionConnect)
        {
            if (connectionId != ProtocolId)
            {
                // Garbage from an unverified address: counted, never answered.
                _announces.Reject(TrackerTransport.Udp, "connect", client, "connect request without the protocol id 0x41727101980 (dropped)");
                return 0;
            }

            BinaryPrimitives.WriteInt32BigEndian(response, ActionConnect);
            BinaryPrimitives.WriteInt32BigEndian(response[4..], transactionId);
            BinaryPrimitives.WriteUInt64BigEndian(response[8..], _connectionIds.Issue(client));
            return 16;
        }

        if (!_connectionIds.IsValid(connectionId, client))
        {
            if (action is not (ActionAnnounce or ActionScrape))
            {
                _announces.Reject(TrackerTransport.Udp, "unknown", client, $"unknown action {action} without a valid connection id (dropped)");
                return 0;
            }

            // The client may have restarted or waited too long: tell it, in no more bytes than it sent.
            var written = Error(response, transactionId, client, action == ActionAnnounce ? "announce" : "scrape", "expired or bad connection id; connect again");
            return Math.Min(written, LengthCut(response, packet.Length));
        }

        if (action is not (ActionAnnounce or ActionScrape))
        {
            return Error(response, transactionId, client, "unknown", $"unknown action {action}");
        }

        return action == ActionAnnounce
            ? Announce(packet, transactionId, client, response, peerScratch)
            : Scrape(packet, transactionId, client, response);
    }

    private int Announce(ReadOnlySpan<byte> packet, int transactionId, PeerAddress client, Span<byte> response, Span<PeerEndpoint> peerScratch)
    {
        if (packet.Length < AnnounceRequestSize)
        {
            return Error(response, transactionId, client, "announce", $"announce packet is {packet.Length} bytes, needs {AnnounceRequestSize}");
        }

        var eventCode = BinaryPrimitives.ReadInt32BigEndian(packet[80..]);
        if (!TrackerEventNames.TryFromUdpCode(eventCode, out var announceEvent))
        {
            return Error(response, transactionId, client, "announce", $"unknown event {eventCode}");
        }

        var left = BinaryPrimitives.ReadInt64BigEndian(packet[64..]);
        var claimedIp = BinaryPrimitives.ReadUInt32BigEndian(packet[84..]);
        var request = new AnnounceRequest(
            InfoHash: new InfoHash(packet.Slice(16, 20)),
            PeerId: new PeerId(packet.Slice(36, 20)),
            Port: BinaryPrimitives.ReadUInt16BigEndian(packet[96..]),
            Uploaded: BinaryPrimitives.ReadInt64BigEndian(packet[72..]),
            Downloaded: BinaryPrimitives.ReadInt64BigEndian(packet[56..]),
            Left: left < 0 ? -1 : left,
            Event: announceEvent,
            NumWant: BinaryPrimitives.ReadInt32BigEndian(packet[92..]),
            Key: BinaryPrimitives.ReadUInt32BigEndian(packet[88..]),
            ClaimedAddress: claimedIp != 0 && client.IsV4 ? PeerAddress.FromV4(packet.Slice(84, 4)) : null,
            Compact: true,
            NoPeerId: true);

        // One datagram carries the answer: fit the peer list to it.
        var peerSize = client.IsV4 ? 6 : 18;
        var fit = Math.Min(peerScratch.Length, (MaxResponseSize - 20) / peerSize);
        var result = _announces.Announce(request, client, TrackerTransport.Udp, peerScratch[..fit], sameFamilyOnly: true, TrackerUrl);
        if (!result.Accepted)
        {
            return ErrorAlreadyLogged(response, transactionId, result.Refusal.Describe());
        }

        BinaryPrimitives.WriteInt32BigEndian(response, ActionAnnounce);
        BinaryPrimitives.WriteInt32BigEndian(response[4..], transactionId);
        BinaryPrimitives.WriteInt32BigEndian(response[8..], _announces.Policy.Interval);
        BinaryPrimitives.WriteInt32BigEndian(response[12..], result.Counts.Leechers);
        BinaryPrimitives.WriteInt32BigEndian(response[16..], result.Counts.Seeders);
        var offset = 20;
        foreach (var peer in peerScratch[..result.Selected])
        {
            offset += peer.Address.WriteCompact(response[offset..]);
            BinaryPrimitives.WriteUInt16BigEndian(response[offset..], peer.Port);
            offset += 2;
        }

        return offset;
    }

    private int Scrape(ReadOnlySpan<byte> packet, int transactionId, PeerAddress client, Span<byte> response)
    {
        var body = packet.Length - HeaderSize;
        var count = body / InfoHash.Length;
        var max = Math.Min(_announces.Policy.MaxScrapeHashes, (MaxResponseSize - 8) / 12);
        if (count == 0 || body % InfoHash.Length != 0 || count > max)
        {
            return Error(response, transactionId, client, "scrape", $"scrape must carry 1 to {max} info hashes of 20 bytes, got {body} bytes");
        }

        BinaryPrimitives.WriteInt32BigEndian(response, ActionScrape);
        BinaryPrimitives.WriteInt32BigEndian(response[4..], transactionId);
        var offset = 8;
        for (var i = 0; i < count; i++)
        {
            var counts = _announces.Scrape(new InfoHash(packet.Slice(HeaderSize + (i * InfoHash.Length), InfoHash.Length)), TrackerTransport.Udp);
            BinaryPrimitives.WriteInt32BigEndian(response[offset..], counts.Seeders);
            BinaryPrimitives.WriteInt32BigEndian(response[(offset + 4)..], (int)Math.Min(counts.Downloaded, int.MaxValue));
            BinaryPrimitives.WriteInt32BigEndian(response[(offset + 8)..], counts.Leechers);
            offset += 12;
        }

        return offset;
    }

    /// <summary>The longest prefix of the error packet in <paramref name="response"/> that fits <paramref name="max"/> bytes and ends on a whole UTF-8 character.</summary>
    private static int LengthCut(ReadOnlySpan<byte> response, int max)
    {
        var cut = Math.Max(8, max);
        while (cut > 8 && cut < response.Length && (response[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        return Math.Min(cut, max);
    }

    private int Error(Span<byte> response, int transactionId, PeerAddress client, string requestKind, string message)
    {
        _announces.Reject(TrackerTransport.Udp, requestKind, client, message);
        return ErrorAlreadyLogged(response, transactionId, message);
    }

    private static int ErrorAlreadyLogged(Span<byte> response, int transactionId, string message)
    {
        BinaryPrimitives.WriteInt32BigEndian(response, ActionError);
        BinaryPrimitives.WriteInt32BigEndian(response[4..], transactionId);
        return 8 + Encoding.UTF8.GetBytes(message, response[8..]);
    }
}
