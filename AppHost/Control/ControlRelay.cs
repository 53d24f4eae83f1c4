using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Testbed.Contracts.Settings;

namespace Testbed.AppHost.Control;

/// <summary>
/// The chaos controller's way into <see cref="ResourceControl"/>: Aspire has no control API outside the AppHost process,
/// so the AppHost serves this small one on loopback. It answers only the testbed's own callers: the per-run secret in
/// <see cref="ControlSecret.Header"/>, a loopback Host (no DNS rebinding) and no Origin (no web page). docs/apphost.md says why.
/// </summary>
public sealed class ControlRelay(ResourceControl control, ControlSecret secret) : IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The relay's base URL once started.</summary>
    public Uri? Url { get; private set; }

    /// <summary>Starts listening on a free port of 127.0.0.1.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (secret.Refusal(context.Request) is { } refusal)
            {
                await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "not a testbed caller", detail: refusal).ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });
        app.MapGet("/api/resources", () => Results.Json(control.Resources()));
        app.MapPost("/api/resources/{name}/commands/{command}", async (string name, string command, CancellationToken ct) =>
        {
            var result = await control.ExecuteAsync(name, command, ct).ConfigureAwait(false);
            return result.Success
                ? Results.Json(control.Resource(name))
                : Results.Problem(statusCode: StatusCodes.Status409Conflict, title: $"{command} of {name} failed", detail: result.Message);
        });
        app.MapFallback(() => Results.Problem(statusCode: StatusCodes.Status404NotFound, detail: "the relay serves GET /api/resources and POST /api/resources/{name}/commands/{command}"));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(address.TrimEnd('/') + "/");
        _app = app;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The per-run secret every control surface of the testbed asks for, handed to each service in its environment. Its names
/// and the loopback-host rule are ServiceDefaults' <see cref="ControlCallers"/>; the relay is stricter than a service in one
/// way: it serves no page, so any Origin at all is refused.
/// </summary>
public sealed class ControlSecret(string value)
{
    /// <summary>The request header that carries the secret.</summary>
    public const string Header = ControlCallers.SecretHeader;

    /// <summary>The environment variable (configuration <c>Testbed:ControlSecret</c>) that hands it to a service.</summary>
    public static string EnvironmentVariable { get; } = ControlSettings.Secret.EnvironmentVariable;

    /// <summary>The secret.</summary>
    public string Value { get; } = value;

    /// <summary>The secret given in <paramref name="configuration"/> (tests fix it), else a fresh random one.</summary>
    public static ControlSecret From(IConfiguration configuration) =>
        configuration[ControlSettings.Secret.Key] is { Length: >= ControlSettings.MinSecretLength } given ? new(given) : new(ControlCallers.NewSecret());

    /// <summary>Why <paramref name="request"/> is refused, or null when it comes from a testbed caller.</summary>
    public string? Refusal(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!ControlCallers.IsLoopbackHost(request.Host.Host))
        {
            return $"Host '{request.Host}' is not a loopback name";
        }

        if (request.Headers.Origin.Count > 0)
        {
            return "requests from web pages (with an Origin header) are refused";
        }

        var given = Encoding.UTF8.GetBytes(request.Headers[Header].ToString());
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(Value)) ? null : $"missing or wrong {Header}";
    }
}
