using Testbed.Peer.Api;
using Testbed.Peer.Bench;
using Testbed.Peer.Hosting;

// `Testbed.Peer bench propagation|sync ...` runs a benchmark that starts its own tracker and peers; anything else is the service.
if (args.Length > 0 && args[0] == "bench")
{
    return await PeerBenchCommands.RunAsync(args[1..]);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPeer();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapPeerApi();
try
{
    await app.RunAsync();
}
catch (ArgumentException e)
{
    // An unusable setting (Testbed:*): one line naming it, exit 2, as every testbed program does for unusable input.
    await Console.Error.WriteLineAsync($"error: {e.Message}");
    return 2;
}

return 0;
