using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Testbed.Contracts.Settings;

namespace Testbed.Inspector.Tests;

/// <summary>
/// The inspector as its Program.cs builds it (service defaults, AddInspector, default endpoints, MapInspector), started in
/// this process on a free loopback port (Kestrel binds port 0), stopped on dispose.
/// </summary>
internal sealed class InspectorApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InspectorApp(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
        Http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Url { get; }

    public HttpClient Http { get; }

    public SpanStore Store => _app.Services.GetRequiredService<SpanStore>();

    /// <summary>Starts an inspector with <paramref name="settings"/> (keys of <see cref="InspectorSettings"/>); fast retries unless set.</summary>
    public static async Task<InspectorApp> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var builder = Builder(settings);
        builder.AddServiceDefaults();
        builder.AddInspector();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapInspector();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        var url = new Uri(app.Urls.Single(u => u.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));
        return new InspectorApp(app, url);
    }

    /// <summary>A builder configured as a test inspector, for tests that call AddInspector themselves.</summary>
    public static WebApplicationBuilder Builder(IReadOnlyDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = Environments.Production,
            ApplicationName = typeof(InspectorOptions).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        var all = new Dictionary<string, string?>
        {
            [InspectorSettings.MinRetryDelay.Key] = "00:00:00.100",
            [InspectorSettings.MaxRetryDelay.Key] = "00:00:00.500",
            [InspectorSettings.ProbeInterval.Key] = "00:00:00.500",
            [InspectorSettings.RequestTimeout.Key] = "00:00:05",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(all);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        return builder;
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<(int Status, string? ContentType, JsonElement Body)> GetProblemAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    public Task<JsonElement> StatusAsync() => GetJsonAsync("/api/status");

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _app.StopAsync(timeout.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
