using Testbed.Peer.Api;
using Testbed.Peer.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPeer();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapPeerApi();
return await app.RunServiceAsync();
