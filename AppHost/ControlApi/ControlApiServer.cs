using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Testbed.AppHost.Orchestration;

namespace Testbed.AppHost.ControlApi;

/// <summary>
/// JSON over HTTP on 127.0.0.1 for the dashboard, the chaos controller and tests:
/// GET /api/resources, GET /api/resources/{name}, POST /api/resources/{name}/commands/{command},
/// GET /api/resources/{name}/console?tail=N, GET /api/apphost.
/// </summary>
internal sealed class ControlApiServer : IAsyncDisposable
{
    /// <summary>Most console lines one request returns.</summary>
    public const int MaxConsoleTail = 10_000;

    private readonly WebApplication _web;
    private int _disposed;

    private ControlApiServer(WebApplication web, Uri url)
    {
        _web = web;
        Url = url;
    }

    /// <summary>Base URL, e.g. http://127.0.0.1:18887.</summary>
    public Uri Url { get; }

    /// <summary>Starts Kestrel on 127.0.0.1:<paramref name="port"/> (0: a free port).</summary>
    public static async Task<ControlApiServer> StartAsync(DistributedApplication app, int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(ControlApiServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        var web = builder.Build();
        Map(web, app);
        try
        {
            await web.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await web.DisposeAsync();
            throw new InvalidOperationException($"The control API cannot listen on 127.0.0.1:{port} ({e.Message}); set AppHost:ControlApiPort (0 picks a free port).", e);
        }

        var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var bound = new Uri(address);
        return new ControlApiServer(web, new Uri($"http://127.0.0.1:{bound.Port}"));
    }

    /// <summary>Stops Kestrel.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _web.StopAsync(timeout.Token);
        await _web.DisposeAsync();
    }

    private static void Map(WebApplication web, DistributedApplication app)
    {
        web.MapGet("/api/apphost", () => Results.Json(new AppHostInfo(
            Environment.ProcessId,
            app.ControlApiUrl?.ToString().TrimEnd('/'),
            app.Options.Dashboard.UiPort,
            app.Options.Dashboard.OtlpGrpcPort,
            app.Options.Dashboard.OtlpHttpPort,
            string.IsNullOrWhiteSpace(app.Options.OtlpEndpoint) ? null : app.Options.OtlpEndpoint,
            ResourceCommands.All)));

        web.MapGet("/api/resources", () => Results.Json(app.Snapshot()));

        web.MapGet("/api/resources/{name}", (string name) => Handle(() => Results.Json(app.GetInstance(name).Snapshot())));

        web.MapPost("/api/resources/{name}/commands/{command}", async (string name, string command, CancellationToken cancellationToken) =>
            await HandleAsync(async () => Results.Json(new CommandResult(name, command, await app.ExecuteCommandAsync(name, command, cancellationToken)))));

        web.MapGet("/api/resources/{name}/console", (string name, int? tail) => Handle(() =>
        {
            var count = tail ?? 200;
            if (count is < 0 or > MaxConsoleTail)
            {
                return Error(StatusCodes.Status400BadRequest, $"tail must be between 0 and {MaxConsoleTail}, not {count}.");
            }

            var log = app.GetInstance(name).Console;
            return Results.Json(new ConsoleTail(name, log.TotalLines, log.Tail(count)));
        }));
    }

    private static IResult Handle(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (Map(e) is { } result)
        {
            return result;
        }
    }

    private static async Task<IResult> HandleAsync(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (Map(e) is { } result)
        {
            return result;
        }
    }

    private static IResult? Map(Exception e) => e switch
    {
        UnknownResourceException => Error(StatusCodes.Status404NotFound, e.Message),
        UnknownCommandException => Error(StatusCodes.Status400BadRequest, e.Message),
        ResourceCommandException => Error(StatusCodes.Status409Conflict, e.Message),
        _ => null,
    };

    private static IResult Error(int status, string message) => Results.Json(new ControlApiError(message), statusCode: status);
}
