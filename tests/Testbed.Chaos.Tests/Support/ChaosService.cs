using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Testbed.Chaos.Api;
using Testbed.Contracts.Settings;

namespace Testbed.Chaos.Tests.Support;

/// <summary>The chaos service's API on a loopback port, with a runs directory of its own that goes with it.</summary>
/// <param name="App">The running web application.</param>
/// <param name="Http">A client at its address that sends the run's secret (when there is one).</param>
/// <param name="Address">Its base address.</param>
/// <param name="RunsDirectory">Where its runs write their history and report.</param>
internal sealed record ChaosService(WebApplication App, HttpClient Http, Uri Address, string RunsDirectory) : IAsyncDisposable
{
    /// <summary>
    /// Starts it with <paramref name="scenarios"/>, the run's <paramref name="secret"/> and the peers' control API at
    /// <paramref name="controlApi"/>; with <paramref name="serviceDefaults"/>, exactly as its Program.cs builds it (service
    /// defaults and their endpoints included), otherwise the chaos API alone on a slim host.
    /// </summary>
    public static async Task<ChaosService> StartAsync(string scenarios, string? secret, string? controlApi, bool serviceDefaults)
    {
        var builder = serviceDefaults
            ? WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development })
            : WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var runs = Path.Combine(Path.GetTempPath(), "chaos-api-runs-" + Guid.NewGuid().ToString("n"));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [ChaosSettings.ScenariosFile.Key] = scenarios,
            [ChaosSettings.RunsDirectory.Key] = runs,
            [ChaosSettings.ControlApiUrl.Key] = controlApi,
            [ControlSettings.Secret.Key] = secret,
        });
        if (serviceDefaults)
        {
            builder.AddServiceDefaults();
        }

        builder.AddChaos();
        var app = builder.Build();
        if (serviceDefaults)
        {
            app.MapDefaultEndpoints();
        }

        app.MapChaosApi();
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");
        var http = new HttpClient { BaseAddress = address };
        if (secret is not null)
        {
            http.DefaultRequestHeaders.Add(ControlCallers.SecretHeader, secret);
        }

        return new ChaosService(app, http, address, runs);
    }

    /// <summary>Stops the service and removes its runs directory.</summary>
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (Directory.Exists(RunsDirectory))
        {
            Directory.Delete(RunsDirectory, recursive: true);
        }
    }
}
