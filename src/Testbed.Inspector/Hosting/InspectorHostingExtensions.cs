using Testbed.Inspector.Dashboard;
using Testbed.Inspector.Telemetry;
using Testbed.Inspector.Web;

namespace Testbed.Inspector.Hosting;

/// <summary>Wires the inspector into an ASP.NET Core host: the service's Program.cs and the tests both use it.</summary>
public static class InspectorHostingExtensions
{
    /// <summary>
    /// Reads and checks the <c>Inspector</c> settings (throws an <see cref="InvalidOperationException"/> naming the setting
    /// when one is missing or unusable), registers the span store, the dashboard client and reader (a hosted service and
    /// the health check "dashboard": Healthy or Degraded, never Unhealthy) and problem details for errors.
    /// </summary>
    public static TBuilder AddInspector<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = InspectorOptions.Read(builder.Configuration);

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new SpanStore(options.MaxTraces, options.MaxSpans, options.MaxSpansPerTrace));
        builder.Services.AddSingleton(_ => new TelemetryApiClient(options));
        builder.Services.AddSingleton<DashboardReader>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DashboardReader>());
        builder.Services.AddHealthChecks().AddCheck<DashboardReader>("dashboard");
        builder.Services.AddProblemDetails();

        // The UI polls every 2 s; per-request logs would bury the reader's own (connected, unreachable: reason).
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        return builder;
    }

    /// <summary>Maps the pages (<c>/</c>, <c>/blocks/{traceId}</c>, <c>/chain</c>, <c>/peers/{name}</c>) and the JSON API under <c>/api</c>.</summary>
    public static WebApplication MapInspector(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        InspectorApi.Map(app);
        return app;
    }
}
