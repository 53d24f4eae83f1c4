using Testbed.Inspector.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddInspector();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapInspector();
return await app.RunServiceAsync();
