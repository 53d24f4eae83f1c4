using System.Net;
using System.Net.Sockets;
using System.Text;
using Testbed.Chaos.Proxy;

namespace Testbed.Chaos.Tests.Proxy;

/// <summary>Peers sharing 127.0.0.1: the proxy names the source by its handshake peer_id and forwards the handshake first.</summary>
public sealed class HandshakeIdentificationTests
{
    [Fact]
    public async Task The_handshake_peer_id_names_the_source_and_partitions_apply()
    {
        var plan = LoopbackPlan.CreateRandom();
        var directory = new PeerDirectory();
        await using var proxy = new FaultProxy(new LinkTable()) { Directory = directory };
        proxy.AddNode(new ProxyNode("a", IPAddress.Loopback, plan.PublicAddress(1)));
        proxy.AddNode(new ProxyNode("b", IPAddress.Loopback, plan.PublicAddress(2)));
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var endPoint = proxy.Expose("b", port);
        var peerIdA = Encoding.ASCII.GetBytes("-TB0001-aaaaaaaaaaaa");
        directory.SetSwarmPort("a", 40001);
        directory.LearnPeerId(peerIdA, 40001);
        Assert.Equal("a", directory.NameByPeerId(peerIdA));

        var handshake = new byte[68];
        handshake[0] = 19;
        Encoding.ASCII.GetBytes("BitTorrent protocol").CopyTo(handshake, 1);
        peerIdA.CopyTo(handshake, 48);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endPoint);
        await client.SendAsync(handshake, SocketFlags.None);
        using var server = await listener.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(plan.PublicAddress(1), ((IPEndPoint)server.RemoteEndPoint!).Address);
        Assert.Equal(handshake, await ProxyFixture.ReadAsync(server, 68, ProxyFixture.Generous));
        Assert.Contains(proxy.Connections, c => c is { Source: "a", Destination: "b" });

        proxy.Links.Partition(["a"], ["b"], bothWays: true);
        await client.SendAsync(new byte[] { 1 }, SocketFlags.None);
        Assert.True(await ProxyFixture.NothingArrivesAsync(server, TimeSpan.FromMilliseconds(500)));
        proxy.Links.Heal();
        Assert.Single(await ProxyFixture.ReadAsync(server, 1, ProxyFixture.Generous));
    }

    [Fact]
    public void Raw_query_values_are_percent_decoded_to_bytes()
    {
        var query = TrackerFront.ParseQuery("?info_hash=%00%FFab&peer_id=-TB0001-%01%02&port=6881&event=started");
        Assert.Equal(new byte[] { 0, 255, (byte)'a', (byte)'b' }, query["info_hash"]);
        Assert.Equal("-TB0001-"u8.ToArray().Concat(new byte[] { 1, 2 }), query["peer_id"]);
        Assert.Equal("6881", Encoding.ASCII.GetString(query["port"]));
    }
}
