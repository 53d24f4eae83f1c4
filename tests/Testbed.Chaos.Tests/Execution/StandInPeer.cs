namespace Testbed.Chaos.Tests.Execution;

/// <summary>A stand-in for a peer's HTTP API on a free loopback port: GET /status answers what the test gives.</summary>
internal sealed record StandInPeer(WebApplication App, Uri Url) : IAsyncDisposable
{
    public static async Task<StandInPeer> StartAsync(Func<IResult> status)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/status", status);
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new StandInPeer(app, new Uri(url.TrimEnd('/') + "/"));
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}
