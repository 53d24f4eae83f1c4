using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Testbed.Chaos.Hosting;
using Testbed.Chaos.Tests.Execution;

namespace Testbed.Chaos.Tests.Proxy;

/// <summary>The service-mode mirror: ports a peer reports in /status at its planned address become reachable at its public address.</summary>
public sealed class ProxyMirrorServiceTests
{
    [Fact]
    public async Task Mirrors_the_ports_a_peer_reports_and_forwards_through_them()
    {
        var plan = LoopbackPlan.CreateRandom();
        using var swarm = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        swarm.Bind(new IPEndPoint(plan.PrivateAddress(1), 0));
        swarm.Listen(4);
        var port = ((IPEndPoint)swarm.LocalEndPoint!).Port;

        // A stand-in for peer-1's /status.
        await using var peer = await StandInPeer.StartAsync(() => Results.Json(PeerStatuses.Of("peer-1") with { Swarm = $"{plan.PrivateAddress(1)}:{port}", TorrentEndPoint = "127.0.0.1:1" }));
        var peerUrl = peer.Url.ToString().TrimEnd('/');

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["services:peer-1:http:0"] = peerUrl }).Build();
        await using var proxy = new FaultProxy(new LinkTable());
        using var service = new ProxyMirrorService(new ChaosOptions { LoopbackPlan = $"127.{plan.A}.{plan.B}" }, proxy, configuration, NullLogger<ProxyMirrorService>.Instance);
        await service.StartAsync(CancellationToken.None);
        try
        {
            for (var i = 0; i < 200 && !proxy.Mirrors.Contains(("peer-1", port)); i++)
            {
                await Task.Delay(100);
            }

            Assert.Equal([("peer-1", port)], proxy.Mirrors);
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(new IPEndPoint(plan.PublicAddress(1), port));
            using var accepted = await swarm.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(20));
            await client.SendAsync(new byte[] { 42 }, SocketFlags.None);
            var buffer = new byte[1];
            Assert.Equal(1, await accepted.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(42, buffer[0]);
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Without_a_plan_it_does_nothing()
    {
        await using var proxy = new FaultProxy(new LinkTable());
        using var service = new ProxyMirrorService(new ChaosOptions(), proxy, new ConfigurationBuilder().Build(), NullLogger<ProxyMirrorService>.Instance);
        await service.StartAsync(CancellationToken.None);
        await service.StopAsync(CancellationToken.None);
        Assert.Empty(proxy.Nodes);
    }

    [Theory]
    [InlineData("10.0.0")]
    [InlineData("127.1")]
    [InlineData("127.300.1")]
    [InlineData("127.1.255")]
    public void A_malformed_plan_names_the_setting(string plan) =>
        Assert.Contains("Chaos:LoopbackPlan", Assert.Throws<ArgumentException>(() => new ChaosOptions { LoopbackPlan = plan }.ParsePlan()).Message, StringComparison.Ordinal);
}
