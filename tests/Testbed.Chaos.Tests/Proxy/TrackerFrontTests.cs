using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Testbed.Chaos.Proxy;
using Testbed.Torrent.Bencoding;

namespace Testbed.Chaos.Tests.Proxy;

/// <summary>The tracker front: forwards the announce, learns the peer id, rewrites the compact peer list to public addresses.</summary>
public sealed class TrackerFrontTests
{
    [Fact]
    public async Task Rewrites_known_peers_to_their_public_address_and_drops_unknown_ones()
    {
        string? seenQuery = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var tracker = builder.Build();
        tracker.MapGet("/announce", (HttpContext context) =>
        {
            seenQuery = context.Request.QueryString.Value;
            var answer = new BencodeDictionary { { "interval", 10L }, { "peers", new BencodeString(new byte[] { 127, 0, 0, 1, 0x1F, 0x90, 127, 0, 0, 1, 0x1F, 0x91 }) } };
            return Results.Bytes(BencodeEncoder.Encode(answer), "text/plain");
        });
        await tracker.StartAsync();
        var trackerUrl = new Uri(tracker.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");

        var plan = LoopbackPlan.CreateRandom();
        var directory = new PeerDirectory();
        await using var proxy = new FaultProxy(new LinkTable()) { Directory = directory };
        proxy.AddNode(new ProxyNode("peer-1", IPAddress.Loopback, plan.PublicAddress(1)));
        directory.SetSwarmPort("peer-1", 8080);
        await using var front = await TrackerFront.StartAsync(proxy, directory, _ => Task.FromResult<Uri?>(trackerUrl), CancellationToken.None);

        using var http = new HttpClient();
        var query = "?info_hash=%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14&peer_id=-TB0001-abcdefghijkl&port=8080&compact=1";
        var body = await http.GetByteArrayAsync(new Uri(front.Url, "announce" + query));
        var answer = BencodeDecoder.DecodeDictionary(body);
        Assert.True(answer.TryGetValue("peers", out var peers));
        var compact = Assert.IsType<BencodeString>(peers).Bytes.ToArray();
        Assert.Equal([.. plan.PublicAddress(1).GetAddressBytes(), 0x1F, 0x90], compact);
        Assert.Equal(query, seenQuery);
        Assert.Equal("peer-1", directory.NameByPeerId("-TB0001-abcdefghijkl"u8));
    }
}
