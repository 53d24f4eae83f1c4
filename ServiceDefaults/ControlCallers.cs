using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Testbed.Contracts.Settings;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Who may call a service's endpoints. Two levels, declared on endpoints or route groups:
/// <list type="bullet">
/// <item><see cref="RequireLocalCaller{TBuilder}"/> (user APIs such as a peer's <c>/tx</c>): the connection comes from a
/// loopback address, the Host header names a loopback host (<c>localhost</c>, <c>127.x.x.x</c>, <c>[::1]</c>: no DNS
/// rebinding), and a request that carries an <c>Origin</c> (or <c>Sec-Fetch-Site</c>) must come from the service's own
/// origin: a web page elsewhere cannot drive the service, whatever its Content-Type.</item>
/// <item><see cref="RequireControlCaller{TBuilder}"/> (control surfaces: a peer's fault hooks and <c>/mining</c>, the chaos
/// controller's runs): all of the above plus the per-run secret. The AppHost generates one per run and hands it to every
/// resource as <c>Testbed__ControlSecret</c> (<see cref="ControlSettings.Secret"/>); callers send it in the
/// <c>X-Testbed-Secret</c> header; it is compared in constant time. Without a configured secret (a peer started by hand)
/// control endpoints refuse with 403 saying so, unless the operator opts out explicitly with
/// <c>Testbed__ControlSecret=none</c> (then the local-caller checks alone apply).</item>
/// </list>
/// Refusals are 403 problem details naming the failed check. The checks run in the service defaults' middleware, after
/// routing and before the endpoint reads a byte of the body; an endpoint filter repeats them when that middleware is missing,
/// so a guard can never be silently off.
/// </summary>
public static class ControlCallers
{
    /// <summary>Request header that carries the secret.</summary>
    public const string SecretHeader = "X-Testbed-Secret";

    private static readonly object Checked = new();

    /// <summary>A fresh random secret (64 hex digits) for one run, for the AppHost or a test to hand to every resource.</summary>
    public static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>Requires a local caller (loopback connection and Host, same origin) on the endpoint(s).</summary>
    public static TBuilder RequireLocalCaller<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        Require(builder, CallerLevel.Local);

    /// <summary>Requires a local caller that also presents the per-run secret on the endpoint(s).</summary>
    public static TBuilder RequireControlCaller<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        Require(builder, CallerLevel.Control);

    /// <summary>Sets <see cref="SecretHeader"/> on a client's requests when <paramref name="secret"/> is a real secret.</summary>
    public static void AddSecretHeader(HttpClient client, string? secret)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.DefaultRequestHeaders.Remove(SecretHeader);
        if (!string.IsNullOrEmpty(secret) && secret != ControlSettings.SecretOptOut)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation(SecretHeader, secret);
        }
    }

    /// <summary>Why <paramref name="context"/> may not call its endpoint, or null when it may.</summary>
    public static string? Refusal(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var level = Level(context);
        if (level is null)
        {
            return null;
        }

        if (LocalRefusal(context) is { } local)
        {
            return local;
        }

        return level == CallerLevel.Control ? SecretRefusal(context) : null;
    }

    /// <summary>Whether <paramref name="host"/> (a Host header's host part) is a loopback name or address.</summary>
    public static bool IsLoopbackHost(string host)
    {
        if (string.IsNullOrEmpty(host))
        {
            return false;
        }

        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var literal = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        // Only a dotted quad or a bracketed IPv6 literal: IPAddress.TryParse also takes "2130706433" and "127.1".
        var isLiteral = host.StartsWith('[') || (literal.Count(c => c == '.') == 3 && literal.All(c => char.IsAsciiDigit(c) || c == '.'));
        return isLiteral && IPAddress.TryParse(literal, out var address) && IPAddress.IsLoopback(address);
    }

    /// <summary>Runs the checks for the request's endpoint (the service defaults' middleware); false when it answered 403.</summary>
    internal static async Task<bool> CheckAsync(HttpContext context)
    {
        if (Refusal(context) is { } refusal)
        {
            await RefuseAsync(context, refusal).ConfigureAwait(false);
            return false;
        }

        context.Items[Checked] = true;
        return true;
    }

    private static TBuilder Require<TBuilder>(TBuilder builder, CallerLevel level) where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithMetadata(new CallerRequirement(level));
        builder.AddEndpointFilter(async (invocation, next) =>
        {
            var context = invocation.HttpContext;
            if (!context.Items.ContainsKey(Checked) && Refusal(context) is { } refusal)
            {
                return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: ErrorResponses.TitleOf(403), detail: refusal);
            }

            return await next(invocation).ConfigureAwait(false);
        });
        return builder;
    }

    private static CallerLevel? Level(HttpContext context)
    {
        var requirements = context.GetEndpoint()?.Metadata.GetOrderedMetadata<CallerRequirement>();
        return requirements is null || requirements.Count == 0 ? null : requirements.Max(r => r.Level);
    }

    private static string? LocalRefusal(HttpContext context)
    {
        var request = context.Request;
        if (context.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
        {
            return "this endpoint answers callers on this machine only (loopback)";
        }

        if (!request.Host.HasValue || !IsLoopbackHost(request.Host.Host))
        {
            return "the Host header must name a loopback host (localhost, 127.x.x.x or [::1]); other names are refused (DNS rebinding)";
        }

        var origin = request.Headers.Origin;
        if (origin.Count > 0)
        {
            var own = $"{request.Scheme}://{request.Host.Value}";
            if (origin.Count != 1 || !string.Equals(origin[0], own, StringComparison.OrdinalIgnoreCase))
            {
                return "requests from another origin (a web page) are refused";
            }
        }

        var site = request.Headers["Sec-Fetch-Site"];
        if (site.Count > 0 && site[0] is not ("same-origin" or "none"))
        {
            return "requests from another site (a web page) are refused";
        }

        return null;
    }

    private static string? SecretRefusal(HttpContext context)
    {
        var setting = ControlSettings.Secret;
        var configured = context.RequestServices.GetService<IConfiguration>()?[setting.Key];
        if (string.IsNullOrEmpty(configured))
        {
            return $"no control secret is configured: set {setting.EnvironmentVariable} (the AppHost sets one per run) and send it in {SecretHeader}, " +
                   $"or set {setting.EnvironmentVariable}={ControlSettings.SecretOptOut} to let any local caller control this service";
        }

        if (configured == ControlSettings.SecretOptOut)
        {
            return null;
        }

        if (configured.Length < ControlSettings.MinSecretLength)
        {
            return $"the configured control secret ({setting.EnvironmentVariable}) is shorter than {ControlSettings.MinSecretLength} characters; control endpoints stay closed";
        }

        var presented = context.Request.Headers[SecretHeader];
        if (presented.Count == 0 || string.IsNullOrEmpty(presented[0]))
        {
            return $"this control endpoint requires the run's secret in the {SecretHeader} header";
        }

        // Hashing first gives both sides one length, so the comparison time says nothing about the secret's length either.
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(configured));
        var actual = SHA256.HashData(Encoding.UTF8.GetBytes(presented.Count == 1 ? presented[0]! : presented.ToString()));
        return CryptographicOperations.FixedTimeEquals(expected, actual) ? null : $"the {SecretHeader} header does not match this run's secret";
    }

    private static Task RefuseAsync(HttpContext context, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: ErrorResponses.TitleOf(403), detail: detail).ExecuteAsync(context);
    }

    private enum CallerLevel
    {
        Local = 1,
        Control = 2,
    }

    private sealed record CallerRequirement(CallerLevel Level);
}
