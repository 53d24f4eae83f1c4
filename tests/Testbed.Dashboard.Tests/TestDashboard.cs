using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Testbed.Dashboard;

namespace Testbed.Dashboard.Tests;

/// <summary>A dashboard on free loopback ports with an HTTP client for its API; disposing stops it.</summary>
internal sealed class TestDashboard : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private TestDashboard(DashboardHost host)
    {
        Host = host;
        Api = new HttpClient { BaseAddress = host.UiUrl, Timeout = TimeSpan.FromSeconds(60) };
    }

    public DashboardHost Host { get; }

    public HttpClient Api { get; }

    public static async Task<TestDashboard> StartAsync(Action<DashboardHostOptions>? configure = null)
    {
        var options = new DashboardHostOptions
        {
            UiUrl = new Uri("http://127.0.0.1:0"),
            OtlpGrpcUrl = new Uri("http://127.0.0.1:0"),
            OtlpHttpUrl = new Uri("http://127.0.0.1:0"),
        };
        configure?.Invoke(options);
        return new TestDashboard(await DashboardHost.StartAsync(options, CancellationToken.None));
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Api.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<T> GetAsync<T>(string path) => (await Api.GetFromJsonAsync<T>(path, Json))!;

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="because"/> after <paramref name="timeout"/>.</summary>
    public static async Task WaitForAsync(Func<Task<bool>> condition, string because, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(clock.Elapsed < limit, $"Timed out after {limit.TotalSeconds:0} s waiting for {because}.");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await Host.DisposeAsync();
    }
}
