using Testbed.Tracker.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddTracker();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapTracker();
return await app.RunServiceAsync();
