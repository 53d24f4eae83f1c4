using Testbed.Chaos.Api;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddChaos();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapChaosApi();
return await app.RunServiceAsync();
