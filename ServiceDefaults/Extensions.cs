using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>Common service wiring for every testbed service, in the shape of Aspire's ServiceDefaults template.</summary>
public static class Extensions
{
    /// <summary>Tag on health checks that say whether the process is alive, as opposed to ready.</summary>
    public const string LiveTag = "live";

    /// <summary>Every testbed library names its ActivitySource and Meter under this prefix.</summary>
    public const string TelemetryPrefix = "Testbed.*";

    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>
    /// Adds OpenTelemetry, default health checks, service discovery, resilient HttpClients and the error model: problem
    /// details for every error (<see cref="ErrorResponses"/>), bad requests as exceptions in every environment (so they get a
    /// 400 naming the problem, never the developer exception page) and a 1 MiB request body limit unless an endpoint declares
    /// its own (<see cref="RequestBodies.WithRequestBodyLimit{TBuilder}"/>).
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        ParentProcessWatch.Start(builder.Configuration);
        builder.Services.AddHostedService<ParentProcessWatch>();

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ErrorResponses>();
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = RequestBodies.DefaultMaxBytes);

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    /// <summary>Logs, metrics and traces; exported over OTLP only when an endpoint is configured.</summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(TelemetryPrefix))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(TelemetryPrefix)
                // Health probes and other services' polls (TelemetryPolls) arrive every second or faster and would drown
                // the traces worth reading; as in Aspire's template, no span is recorded for them.
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = context =>
                    !context.Request.Path.StartsWithSegments(HealthEndpointPath) &&
                    !context.Request.Path.StartsWithSegments(AlivenessEndpointPath) &&
                    !TelemetryPolls.IsPoll(context.Request))
                .AddHttpClientInstrumentation());

        builder.AddOpenTelemetryExporters();
        return builder;
    }

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Without an endpoint the OTLP exporter would still try its default address and log failures.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>A liveness check tagged <see cref="LiveTag"/>; services add their own readiness checks.</summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (every check must pass: ready) and <c>/alive</c> (live checks only), and switches the service
    /// defaults' middleware on (<see cref="UseServiceDefaults"/>).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseServiceDefaults();
        // Mapped in every environment: the AppHost and the chaos controller probe them on loopback.
        app.MapHealthChecks(HealthEndpointPath);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(LiveTag),
        });
        return app;
    }

    /// <summary>
    /// The service defaults' middleware, in every environment (once; <see cref="MapDefaultEndpoints"/> calls it): the exception
    /// handler (problem details, no stack trace, no developer exception page reached), problem-details bodies for bare error
    /// statuses (404, 405, ...), and per endpoint, before its handler runs, the declared request body limit and the caller
    /// checks of <see cref="ControlCallers"/>.
    /// </summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!((IApplicationBuilder)app).Properties.TryAdd(ServiceDefaultsMiddlewareKey, true))
        {
            return app;
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(async (context, next) =>
        {
            RequestBodies.ApplyDeclaredLimit(context);
            if (await ControlCallers.CheckAsync(context).ConfigureAwait(false))
            {
                await next(context).ConfigureAwait(false);
            }
        });
        return app;
    }

    private const string ServiceDefaultsMiddlewareKey = "Testbed.ServiceDefaults.Middleware";
}
