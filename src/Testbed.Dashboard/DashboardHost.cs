using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Testbed.Dashboard.ControlPlane;
using Testbed.Dashboard.Forwarding;
using Testbed.Dashboard.Ingest;
using Testbed.Dashboard.Storage;
using Testbed.Dashboard.Web;

namespace Testbed.Dashboard;

/// <summary>
/// The testbed's dashboard in one process: OTLP/gRPC and OTLP/HTTP receivers, bounded stores, the JSON
/// query API and the web UI. The AppHost starts it with one call to <see cref="StartAsync"/>.
/// </summary>
public sealed class DashboardHost : IAsyncDisposable
{
    private readonly WebApplication _web;
    private readonly OtlpForwarder? _forwarder;
    private readonly ControlApiClient _control;
    private int _disposed;

    private DashboardHost(WebApplication web, TelemetryIngest telemetry, OtlpForwarder? forwarder, ControlApiClient control, Listeners listeners)
    {
        _web = web;
        _forwarder = forwarder;
        _control = control;
        Telemetry = telemetry;
        UiUrl = listeners.Url(listeners.Ui);
        OtlpGrpcUrl = listeners.Url(listeners.Grpc);
        OtlpHttpUrl = listeners.Url(listeners.Http);
    }

    /// <summary>The web UI and query API as bound (the real port when 0 was asked for).</summary>
    public Uri UiUrl { get; }

    /// <summary>The OTLP/gRPC endpoint as bound: hand it to services as OTEL_EXPORTER_OTLP_ENDPOINT with protocol grpc.</summary>
    public Uri OtlpGrpcUrl { get; }

    /// <summary>The OTLP/HTTP endpoint as bound (protocol http/protobuf or http/json).</summary>
    public Uri OtlpHttpUrl { get; }

    /// <summary>The stores and counters, for in-process callers (tests, benchmarks).</summary>
    public TelemetryIngest Telemetry { get; }

    /// <summary>
    /// Connects the Resources and Console views to the AppHost's control API, for a host that starts the dashboard
    /// before its control API (so the OTLP receivers are up before the first service exports).
    /// </summary>
    public void SetControlApiUrl(Uri controlApiUrl)
    {
        ArgumentNullException.ThrowIfNull(controlApiUrl);
        DashboardHostOptions.Check(controlApiUrl.IsAbsoluteUri && (controlApiUrl.Scheme == Uri.UriSchemeHttp || controlApiUrl.Scheme == Uri.UriSchemeHttps),
            $"Dashboard ControlApiUrl must be an absolute http(s) URL, not '{controlApiUrl}'.");
        _control.BaseUrl = controlApiUrl;
    }

    /// <summary>Starts the receivers, the API and the UI; throws when a port is taken, naming it.</summary>
    public static async Task<DashboardHost> StartAsync(DashboardHostOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var listeners = new Listeners(options);
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var forwarder = options.ForwardUrl is null
            ? null
            : new OtlpForwarder(options.ForwardUrl, options.ForwardProtocol, loggerFactory.CreateLogger<OtlpForwarder>());
        var limits = options.Limits;
        var telemetry = new TelemetryIngest(limits, new TraceStore(limits), new LogStore(limits), new MetricStore(limits), forwarder);
        var control = new ControlApiClient(options.ControlApiUrl);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(DashboardHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Logging.ClearProviders();
        if (options.LoggerFactory is not null)
        {
            builder.Services.AddSingleton(options.LoggerFactory);
        }

        builder.WebHost.UseKestrel(kestrel =>
        {
            // The receivers enforce their own body limit (after decompression) and answer 413 with a reason.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(listeners.Address(options.UiUrl), options.UiUrl.Port, l => { l.Protocols = HttpProtocols.Http1; listeners.Ui = l; });
            kestrel.Listen(listeners.Address(options.OtlpGrpcUrl), options.OtlpGrpcUrl.Port, l => { l.Protocols = HttpProtocols.Http2; listeners.Grpc = l; });
            kestrel.Listen(listeners.Address(options.OtlpHttpUrl), options.OtlpHttpUrl.Port, l => { l.Protocols = HttpProtocols.Http1AndHttp2; listeners.Http = l; });
        });
        builder.Services.AddSingleton(telemetry);
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = limits.MaxRequestBytes;
            grpc.EnableDetailedErrors = false;
        });

        var web = builder.Build();
        web.Use(async (context, next) =>
        {
            // Each listener serves its own role only, so a misdirected exporter gets a clear answer.
            var role = listeners.RoleOf(context.Connection.LocalPort);
            var path = context.Request.Path;
            var isGrpc = path.Value?.StartsWith("/opentelemetry.proto.collector.", StringComparison.Ordinal) == true;
            var isOtlpHttp = path.StartsWithSegments("/v1");
            var allowed = role switch
            {
                ListenerRole.Grpc => isGrpc,
                ListenerRole.Http => isOtlpHttp,
                _ => !isGrpc && !isOtlpHttp,
            };
            if (!allowed)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                await context.Response.WriteAsync(
                    $"Not served on this port. UI and API: {listeners.Url(listeners.Ui)}; OTLP/gRPC: {listeners.Url(listeners.Grpc)}; OTLP/HTTP: {listeners.Url(listeners.Http)}/v1/traces|logs|metrics.");
                return;
            }

            await next(context);
        });
        web.MapGrpcService<OtlpTraceGrpcReceiver>();
        web.MapGrpcService<OtlpLogsGrpcReceiver>();
        web.MapGrpcService<OtlpMetricsGrpcReceiver>();
        OtlpHttpReceiver.Map(web);
        DashboardApi.Map(web, telemetry, control, () => (listeners.Url(listeners.Grpc).ToString().TrimEnd('/'), listeners.Url(listeners.Http).ToString().TrimEnd('/')));
        web.MapGet("/{**path}", async (HttpContext context, string? path) =>
        {
            if (!await StaticAssets.TryServeAsync(context, path ?? ""))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
            }
        });

        try
        {
            await web.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException && e is not OperationCanceledException)
        {
            await web.DisposeAsync();
            control.Dispose();
            if (forwarder is not null)
            {
                await forwarder.DisposeAsync();
            }

            throw new InvalidOperationException(
                $"The dashboard cannot listen on UI {options.UiUrl}, OTLP/gRPC {options.OtlpGrpcUrl}, OTLP/HTTP {options.OtlpHttpUrl}: {e.Message} (pick other ports, or 0 for free ones).", e);
        }

        listeners.Started = true;
        return new DashboardHost(web, telemetry, forwarder, control, listeners);
    }

    /// <summary>Stops the listeners and the forwarder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await _web.StopAsync(timeout.Token);
        }

        await _web.DisposeAsync();
        if (_forwarder is not null)
        {
            await _forwarder.DisposeAsync();
        }

        _control.Dispose();
    }

    private enum ListenerRole
    {
        Ui,
        Grpc,
        Http,
    }

    /// <summary>The three Kestrel listeners; their ports are known once Kestrel has bound them.</summary>
    private sealed class Listeners(DashboardHostOptions options)
    {
        public ListenOptions? Ui { get; set; }

        public ListenOptions? Grpc { get; set; }

        public ListenOptions? Http { get; set; }

        public bool Started { get; set; }

        public IPAddress Address(Uri url) =>
            url.IsLoopback && !IPAddress.TryParse(url.Host, out _) ? IPAddress.Loopback
            : IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) ? address
            : throw new ArgumentException($"Dashboard URL {url} must name an IP address or localhost.");

        public ListenerRole RoleOf(int port) =>
            port == Port(Grpc, options.OtlpGrpcUrl) ? ListenerRole.Grpc
            : port == Port(Http, options.OtlpHttpUrl) ? ListenerRole.Http
            : ListenerRole.Ui;

        public Uri Url(ListenOptions? listener)
        {
            var endpoint = listener!.IPEndPoint!;
            var host = endpoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]" : endpoint.Address.ToString();
            return new Uri($"http://{host}:{endpoint.Port}");
        }

        private static int Port(ListenOptions? listener, Uri configured) =>
            listener?.IPEndPoint?.Port is > 0 and var bound ? bound : configured.Port;
    }
}
