using System.Collections;
using Microsoft.Extensions.Diagnostics.HealthChecks;

// PROBE_EXIT_CODE=N: crash at start, to test that the harness fails fast with the console tail.
if (int.TryParse(Environment.GetEnvironmentVariable("PROBE_EXIT_CODE"), out var exitCode))
{
    Console.WriteLine($"probe: exiting with code {exitCode} as PROBE_EXIT_CODE asks");
    return exitCode;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
if (Environment.GetEnvironmentVariable("PROBE_UNHEALTHY") == "1")
{
    // PROBE_UNHEALTHY=1: run but never pass the readiness check, to test the startup timeout.
    builder.Services.AddHealthChecks().AddCheck("probe", () => HealthCheckResult.Unhealthy("PROBE_UNHEALTHY=1"));
}

var app = builder.Build();
app.MapDefaultEndpoints();

// The environment the AppHost handed down (service discovery, OpenTelemetry, parent pid, URLs).
app.MapGet("/env", () => Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .Select(entry => (Key: (string)entry.Key, Value: (string?)entry.Value ?? ""))
    .Where(entry => entry.Key.StartsWith("services__", StringComparison.Ordinal) || entry.Key.StartsWith("OTEL_", StringComparison.Ordinal) ||
                    entry.Key.StartsWith("TESTBED_", StringComparison.Ordinal) || entry.Key.StartsWith("ASPNETCORE_", StringComparison.Ordinal) ||
                    entry.Key is "DOTNET_ENVIRONMENT" or "Tracker__Udp")
    .ToDictionary(entry => entry.Key, entry => entry.Value, StringComparer.Ordinal));

// Calls another resource by name through Microsoft.Extensions.ServiceDiscovery (reads services__{name}__http__0).
app.MapGet("/call/{service}", async (string service, IHttpClientFactory factory, CancellationToken cancellationToken) =>
{
    using var client = factory.CreateClient();
    using var response = await client.GetAsync(new Uri($"http://{service}/health"), cancellationToken);
    return Results.Json(new { status = (int)response.StatusCode, body = await response.Content.ReadAsStringAsync(cancellationToken) });
});

await app.RunAsync();
return 0;
