using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Testbed.Torrent.Bencoding;

namespace Testbed.Chaos.Proxy;

/// <summary>
/// An HTTP tracker front for peers that bind no address of their own: it forwards each announce to the real tracker,
/// learns the announcer's peer_id and swarm port, and rewrites the peer list so every entry points at the peer's public
/// address on the proxy (entries it cannot name yet are left out, so no peer ever learns a direct address).
/// </summary>
public sealed class TrackerFront : IAsyncDisposable
{
    /// <summary>Largest tracker answer forwarded.</summary>
    public const int MaxResponseBytes = 1 << 20;

    private readonly WebApplication _web;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    private TrackerFront(WebApplication web, Uri url)
    {
        _web = web;
        Url = url;
    }

    /// <summary>The URL peers use as their tracker (ends with '/').</summary>
    public Uri Url { get; }

    /// <summary>Starts the front on 127.0.0.1 (a free port); <paramref name="upstream"/> finds the real tracker's base URL per request.</summary>
    public static async Task<TrackerFront> StartAsync(FaultProxy proxy, PeerDirectory directory, Func<CancellationToken, Task<Uri?>> upstream, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var web = builder.Build();
        TrackerFront? front = null;
        // Typed as returning the result: a plain async lambda over HttpContext would bind as a RequestDelegate and drop it.
        web.MapGet("/announce", (Func<HttpContext, Task<IResult>>)(context => front!.AnnounceAsync(context, proxy, directory, upstream)));
        await web.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        front = new TrackerFront(web, new Uri(address.TrimEnd('/') + "/"));
        return front;
    }

    /// <summary>Percent-decodes a raw query string into its keys and byte values (info_hash and peer_id are binary).</summary>
    public static Dictionary<string, byte[]> ParseQuery(string rawQuery)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var part in rawQuery.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries).Take(64))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? "" : part[(equals + 1)..];
            result[key] = PercentDecode(value);
        }

        return result;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _web.StopAsync().ConfigureAwait(false);
        await _web.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<IResult> AnnounceAsync(HttpContext context, FaultProxy proxy, PeerDirectory directory, Func<CancellationToken, Task<Uri?>> upstream)
    {
        var raw = context.Request.QueryString.Value ?? "";
        var query = ParseQuery(raw);
        if (query.TryGetValue("peer_id", out var peerId) && query.TryGetValue("port", out var portBytes) &&
            int.TryParse(Encoding.ASCII.GetString(portBytes), out var port))
        {
            directory.LearnPeerId(peerId, port);
        }

        var tracker = await upstream(context.RequestAborted).ConfigureAwait(false);
        if (tracker is null)
        {
            return Results.Text("d14:failure reason22:tracker is not knowne", "text/plain", statusCode: 502);
        }

        byte[] body;
        try
        {
            using var response = await _http.GetAsync(new Uri(tracker, "announce" + raw), context.RequestAborted).ConfigureAwait(false);
            body = await response.Content.ReadAsByteArrayAsync(context.RequestAborted).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode || body.Length > MaxResponseBytes)
            {
                return Results.Bytes(body.Length > MaxResponseBytes ? [] : body, "text/plain");
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // The tracker is down (a tracker-outage scenario): the announcer sees a failed announce, as it would without us.
            return Results.Text("tracker unreachable", "text/plain", statusCode: 502);
        }

        try
        {
            var answer = BencodeDecoder.DecodeDictionary(body, BencodeLimits.Message);
            if (answer.TryGetValue("peers", out var peers) && peers is BencodeString compact)
            {
                answer.Remove("peers");
                answer.Add("peers", new BencodeString(Rewrite(compact.Bytes.Span, proxy, directory)));
            }
            else if (peers is BencodeList)
            {
                // Only the compact form is rewritten; a dictionary list would leak direct addresses, so it is dropped.
                answer.Remove("peers");
                answer.Add("peers", new BencodeString(Array.Empty<byte>()));
            }

            return Results.Bytes(BencodeEncoder.Encode(answer), "text/plain");
        }
        catch (BencodeException)
        {
            return Results.Bytes(body, "text/plain");
        }
    }

    private static byte[] Rewrite(ReadOnlySpan<byte> compact, FaultProxy proxy, PeerDirectory directory)
    {
        var output = new List<byte>(compact.Length);
        for (var i = 0; i + 6 <= compact.Length; i += 6)
        {
            var port = (compact[i + 4] << 8) | compact[i + 5];
            var name = directory.NameBySwarmPort(port);
            var node = name is null ? null : proxy.Nodes.FirstOrDefault(n => n.Name == name);
            if (node is null)
            {
                continue;
            }

            output.AddRange(node.PublicAddress.GetAddressBytes());
            output.Add(compact[i + 4]);
            output.Add(compact[i + 5]);
        }

        return [.. output];
    }

    private static byte[] PercentDecode(string value)
    {
        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length && Uri.IsHexDigit(value[i + 1]) && Uri.IsHexDigit(value[i + 2]))
            {
                bytes.Add(Convert.ToByte(value.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add(value[i] == '+' ? (byte)' ' : (byte)value[i]);
            }
        }

        return [.. bytes];
    }
}
