using Microsoft.Extensions.Logging.Abstractions;
using static Testbed.Tracker.Tests.Requests;

namespace Testbed.Tracker.Tests;

public class UdpPacketHandlerTests
{
    private readonly ManualTimeProvider _clock = new();
    private readonly SwarmStore _store;
    private readonly UdpPacketHandler _handler;
    private readonly byte[] _response = new byte[UdpPacketHandler.MaxResponseSize];
    private readonly PeerEndpoint[] _scratch = new PeerEndpoint[200];

    public UdpPacketHandlerTests()
    {
        _store = new SwarmStore(SwarmLimits.Default, _clock);
        var service = new AnnounceService(_store, AnnouncePolicy.Default with { Interval = 900 }, NullLogger<AnnounceService>.Instance);
        _handler = new UdpPacketHandler(service, new ConnectionIds(_clock));
    }

    internal static byte[] ConnectPacket(int transactionId)
    {
        var packet = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(packet, (ulong)Testbed.Torrent.Trackers.UdpTrackerProtocol.ProtocolId);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), 0);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(12), transactionId);
        return packet;
    }

    internal static byte[] AnnouncePacket(ulong connectionId, int transactionId, InfoHash hash, PeerId peer, ushort port, long left, int eventCode = 2, int numWant = -1, uint ip = 0)
    {
        var packet = new byte[98];
        BinaryPrimitives.WriteUInt64BigEndian(packet, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), 1);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(12), transactionId);
        hash.CopyTo(packet.AsSpan(16));
        peer.CopyTo(packet.AsSpan(36));
        BinaryPrimitives.WriteInt64BigEndian(packet.AsSpan(64), left);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(80), eventCode);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(84), ip);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(88), 0xC0FFEE);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(92), numWant);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(96), port);
        return packet;
    }

    internal static byte[] ScrapePacket(ulong connectionId, int transactionId, params InfoHash[] hashes)
    {
        var packet = new byte[16 + (20 * hashes.Length)];
        BinaryPrimitives.WriteUInt64BigEndian(packet, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), 2);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(12), transactionId);
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i].CopyTo(packet.AsSpan(16 + (20 * i)));
        }

        return packet;
    }

    private ReadOnlySpan<byte> Send(byte[] packet, PeerAddress from)
    {
        var length = _handler.Handle(packet, from, _response, _scratch);
        return _response.AsSpan(0, length);
    }

    private ulong Connect(PeerAddress from)
    {
        var reply = Send(ConnectPacket(77), from);
        Assert.Equal(16, reply.Length);
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(reply));
        Assert.Equal(77, BinaryPrimitives.ReadInt32BigEndian(reply[4..]));
        return BinaryPrimitives.ReadUInt64BigEndian(reply[8..]);
    }

    private static string ErrorText(ReadOnlySpan<byte> reply)
    {
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(reply));
        return Encoding.UTF8.GetString(reply[8..]);
    }

    [Fact]
    public void Connect_announce_and_scrape()
    {
        var seeder = V4(1);
        var leecher = V4(2);
        var hash = Hash(5);
        var seederId = Connect(seeder);
        var first = Send(AnnouncePacket(seederId, 1, hash, Peer(1), 7001, left: 0), seeder).ToArray();
        Assert.Equal(20, first.Length);
        Assert.Equal(900, BinaryPrimitives.ReadInt32BigEndian(first.AsSpan(8)));

        var leecherId = Connect(leecher);
        var second = Send(AnnouncePacket(leecherId, 2, hash, Peer(2), 7002, left: 5), leecher);
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(second));
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(second[4..]));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(second[12..])); // leechers
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(second[16..])); // seeders
        Assert.Equal(26, second.Length);
        Assert.Equal(new byte[] { 10, 0, 0, 1, 0x1B, 0x59 }, second[20..].ToArray());

        Send(AnnouncePacket(leecherId, 3, hash, Peer(2), 7002, left: 0, eventCode: 1), leecher);
        var scrape = Send(ScrapePacket(leecherId, 4, hash, Hash(6)), leecher);
        Assert.Equal(8 + 24, scrape.Length);
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(scrape));
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(scrape[8..]));  // seeders
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(scrape[12..])); // completed
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(scrape[16..])); // leechers
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(scrape[20..]));

        Send(AnnouncePacket(leecherId, 5, hash, Peer(2), 7002, left: 0, eventCode: 3), leecher);
        Assert.Equal(new SwarmCounts(1, 0, 1), _store.Scrape(hash));
    }

    [Fact]
    public void Connection_ids_are_bound_to_the_address_and_expire_after_two_minutes()
    {
        var client = V4(1);
        var id = Connect(client);
        Assert.Contains("connection id", ErrorText(Send(AnnouncePacket(id, 9, Hash(1), Peer(1), 1, 0), V4(2))), StringComparison.Ordinal);
        Assert.Contains("connection id", ErrorText(Send(AnnouncePacket(id ^ 1, 9, Hash(1), Peer(1), 1, 0), client)), StringComparison.Ordinal);

        _clock.Advance(TimeSpan.FromSeconds(119));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(Send(AnnouncePacket(id, 9, Hash(1), Peer(1), 1, 0), client)));

        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Contains("expired", ErrorText(Send(AnnouncePacket(id, 9, Hash(1), Peer(1), 1, 0), client)), StringComparison.Ordinal);
        Assert.Contains("expired", ErrorText(Send(ScrapePacket(id, 9, Hash(1)), client)), StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_requests_get_errors_naming_the_problem()
    {
        var client = V4(1);
        var id = Connect(client);
        var bad = ConnectPacket(5);
        bad[0] ^= 0xFF;
        // No answer to a connect without the protocol id: the sender is unverified, the answer would be reflection.
        Assert.Equal(0, Send(bad, client).Length);
        Assert.Contains("announce packet is 60 bytes", ErrorText(Send(AnnouncePacket(id, 1, Hash(1), Peer(1), 1, 0)[..60], client)), StringComparison.Ordinal);
        Assert.Contains("unknown event 9", ErrorText(Send(AnnouncePacket(id, 1, Hash(1), Peer(1), 1, 0, eventCode: 9), client)), StringComparison.Ordinal);
        Assert.Contains("1 to 74 info hashes", ErrorText(Send(ScrapePacket(id, 1), client)), StringComparison.Ordinal);
        Assert.Contains("1 to 74 info hashes", ErrorText(Send(ScrapePacket(id, 1, Enumerable.Range(0, 75).Select(Hash).ToArray()), client)), StringComparison.Ordinal);
        Assert.Contains("1 to 74 info hashes", ErrorText(Send(ScrapePacket(id, 1, Hash(1))[..30], client)), StringComparison.Ordinal);
        var unknown = ConnectPacket(5);
        unknown[11] = 7;
        Assert.Equal(0, Send(unknown, client).Length);
        BinaryPrimitives.WriteUInt64BigEndian(unknown, id);
        Assert.Contains("unknown action 7", ErrorText(Send(unknown, client)), StringComparison.Ordinal);
        Assert.Equal(0, Send(new byte[15], client).Length);
        Assert.Equal(0, Send([], client).Length);
    }

    [Fact]
    public void Answers_fit_one_datagram_whatever_numwant_asks()
    {
        var hash = Hash(1);
        for (var i = 0; i < 400; i++)
        {
            _store.Announce(Announce(hash, Peer(i), port: (ushort)(2000 + i)), V4((byte)(i % 250)), new PeerEndpoint[1]);
        }

        var v4 = V4(1);
        var reply = Send(AnnouncePacket(Connect(v4), 1, hash, Peer(9999), 1, 5, numWant: int.MaxValue), v4);
        Assert.Equal(20 + (200 * 6), reply.Length);

        var v6 = PeerAddress.FromV6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        for (var i = 0; i < 100; i++)
        {
            var address = PeerAddress.FromV6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, (byte)i]);
            _store.Announce(Announce(hash, Peer(5000 + i), port: 3000), address, new PeerEndpoint[1]);
        }

        var reply6 = Send(AnnouncePacket(Connect(v6), 1, hash, Peer(9998), 1, 5, numWant: 500), v6);
        Assert.True(reply6.Length <= UdpPacketHandler.MaxResponseSize);
        Assert.Equal(0, (reply6.Length - 20) % 18);
        Assert.Equal((UdpPacketHandler.MaxResponseSize - 20) / 18, (reply6.Length - 20) / 18);
    }

    [Fact]
    public void The_ip_field_is_ignored_unless_configured()
    {
        var client = V4(1);
        var hash = Hash(1);
        Send(AnnouncePacket(Connect(client), 1, hash, Peer(1), 4000, 5, ip: 0x01020304), client);
        var selected = new PeerEndpoint[5];
        _store.Announce(Announce(hash, Peer(2)), V4(2), selected);
        Assert.Equal(client, selected[0].Address);

        var trusting = new SwarmStore(SwarmLimits.Default, _clock);
        var trustingHandler = new UdpPacketHandler(
            new AnnounceService(trusting, AnnouncePolicy.Default with { AllowClientIp = true }, NullLogger<AnnounceService>.Instance),
            new ConnectionIds(_clock));
        var reply = new byte[UdpPacketHandler.MaxResponseSize];
        trustingHandler.Handle(ConnectPacket(1), client, reply, _scratch);
        var id = BinaryPrimitives.ReadUInt64BigEndian(reply.AsSpan(8));
        trustingHandler.Handle(AnnouncePacket(id, 1, hash, Peer(1), 4000, 5, ip: 0x01020304), client, reply, _scratch);
        trusting.Announce(Announce(hash, Peer(2)), V4(2), selected);
        Assert.Equal(PeerAddress.FromV4([1, 2, 3, 4]), selected[0].Address);
    }

    [Fact]
    public void Garbage_never_throws_and_never_overflows_the_response()
    {
        var random = new Random(11);
        var client = V4(1);
        var id = Connect(client);
        for (var i = 0; i < 50_000; i++)
        {
            var packet = new byte[random.Next(0, 200)];
            random.NextBytes(packet);
            if (packet.Length >= 16 && i % 3 == 0)
            {
                // Valid header, random body: reaches the announce and scrape parsers.
                BinaryPrimitives.WriteUInt64BigEndian(packet, id);
                BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), 1 + (i % 2));
            }

            var length = _handler.Handle(packet, client, _response, _scratch);
            Assert.InRange(length, 0, UdpPacketHandler.MaxResponseSize);
        }
    }

    [Fact]
    public void Client_addresses_are_read_from_native_socket_addresses()
    {
        var v4 = new IPEndPoint(IPAddress.Parse("192.0.2.33"), 4567).Serialize();
        Assert.Equal(PeerAddress.FromV4([192, 0, 2, 33]), UdpTrackerServer.ClientAddress(v4));
        var v6 = new IPEndPoint(IPAddress.Parse("2001:db8::7"), 4567).Serialize();
        Assert.Equal(PeerAddress.From(IPAddress.Parse("2001:db8::7")), UdpTrackerServer.ClientAddress(v6));
        Assert.Equal(AddressFamily.InterNetworkV6, v6.Family);
    }
}
