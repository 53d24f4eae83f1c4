using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;

namespace ServiceDefaults.Tests;

public sealed class ServiceDefaultsTests
{
    private static readonly ActivitySource Source = new("Testbed.ServiceDefaults.Tests");

    private static WebApplicationBuilder NewBuilder(int port, Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        // Configuration rather than process environment: tests in this assembly run in parallel.
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        return builder;
    }

    [Fact]
    public async Task Spans_reach_the_otlp_endpoint_when_it_is_configured()
    {
        await using var otlp = new TestOtlpListener();
        var builder = NewBuilder(TestOtlpListener.FreeTcpPort(), new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "servicedefaults-test",
        });
        await using var app = builder.Build();
        await app.StartAsync();

        var spanName = $"block.mine.{Guid.NewGuid():N}";
        using (Source.StartActivity(spanName))
        {
        }

        app.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000);
        await app.StopAsync();

        var traces = otlp.Exports.Where(e => e.Path == "/v1/traces").Select(e => e.Body).ToList();
        Assert.NotEmpty(traces);
        // Protobuf carries strings as raw UTF-8, so the span's name and the service name are in the body.
        Assert.Contains(traces, body => Contains(body, spanName));
        Assert.Contains(traces, body => Contains(body, "servicedefaults-test"));
    }

    [Fact]
    public async Task Nothing_is_exported_when_no_endpoint_is_configured()
    {
        var exported = new List<Activity>();
        var builder = NewBuilder(TestOtlpListener.FreeTcpPort(), []);
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(exported));
        await using var app = builder.Build();
        await app.StartAsync();

        var spanName = $"block.verify.{Guid.NewGuid():N}";
        using (Source.StartActivity(spanName))
        {
        }

        app.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000);
        await app.StopAsync();

        // The pipeline records the span ...
        Assert.Contains(exported, a => a.DisplayName == spanName);
        // ... but no OTLP exporter was wired: no options object of the OTLP package was ever registered.
        var otlpAssembly = typeof(OtlpExporterOptions).Assembly;
        Assert.DoesNotContain(builder.Services, d =>
            d.ServiceType.Assembly == otlpAssembly ||
            (d.ServiceType.IsGenericType && d.ServiceType.GenericTypeArguments.Any(t => t.Assembly == otlpAssembly)));
    }

    [Fact]
    public async Task Health_and_alive_endpoints_answer()
    {
        var port = TestOtlpListener.FreeTcpPort();
        var builder = NewBuilder(port, []);
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync();

        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        foreach (var path in new[] { "/health", "/alive" })
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
        }

        await app.StopAsync();
    }

    [Fact]
    public async Task Readiness_fails_while_a_service_check_fails_but_liveness_holds()
    {
        var port = TestOtlpListener.FreeTcpPort();
        var builder = NewBuilder(port, []);
        builder.Services.AddHealthChecks().AddCheck("chain-store", () =>
            Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("not open yet"));
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync();

        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);

        await app.StopAsync();
    }

    [Fact]
    public async Task Http_clients_retry_transient_failures_through_the_resilience_handler()
    {
        var serverPort = TestOtlpListener.FreeTcpPort();
        var hits = 0;
        var server = WebApplication.CreateBuilder();
        server.WebHost.UseUrls($"http://127.0.0.1:{serverPort}");
        await using var serverApp = server.Build();
        serverApp.MapGet("/flaky", () => Interlocked.Increment(ref hits) == 1
            ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ok"));
        await serverApp.StartAsync();

        var builder = NewBuilder(TestOtlpListener.FreeTcpPort(), []);
        builder.Services.AddHttpClient("peer");
        await using var app = builder.Build();
        var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("peer");

        var response = await client.GetAsync($"http://127.0.0.1:{serverPort}/flaky");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, hits);
        await serverApp.StopAsync();
    }

    private static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;
}
