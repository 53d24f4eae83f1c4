using Testbed.Peer.Api;
using Testbed.Peer.Hosting;

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
