using System.Text.Json;
using Testbed.Contracts.Settings;

namespace ServiceDefaults.Tests;

/// <summary>Control endpoints answer the testbed's own callers only: loopback, same origin, and the run's secret.</summary>
[Collection(SharedListenerCollection.Name)]
public sealed class ControlCallerTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef";

    private sealed class Service : IAsyncDisposable
    {
        public required WebApplication App { get; init; }

        public required HttpClient Client { get; init; }

        public required int Port { get; init; }

        public int ControlRuns;

        public int LocalRuns;

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await App.DisposeAsync();
        }
    }

    private static async Task<Service> StartAsync(string? secret, bool useDefaults = true)
    {
        var port = TestOtlpListener.FreeTcpPort();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [ControlSettings.Secret.Key] = secret });
        builder.AddServiceDefaults();
        var app = builder.Build();
        if (useDefaults)
        {
            app.MapDefaultEndpoints();
        }

        Service? service = null;
        var api = app.MapGroup(string.Empty).RequireLocalCaller();
        api.MapPost("/tx", () =>
        {
            Interlocked.Increment(ref service!.LocalRuns);
            return Results.Json(new { ok = true });
        });
        api.MapGroup(string.Empty).RequireControlCaller().MapPost("/pause", () =>
        {
            Interlocked.Increment(ref service!.ControlRuns);
            return Results.Json(new { paused = true });
        });
        await app.StartAsync();
        service = new Service { App = app, Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") }, Port = port };
        return service;
    }

    private static HttpRequestMessage Post(string path, string? secret = null, string? origin = null, string? host = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}", Encoding.UTF8, contentType) };
        if (secret is not null)
        {
            request.Headers.Add(ControlCallers.SecretHeader, secret);
        }

        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (host is not null)
        {
            request.Headers.Host = host;
        }

        return request;
    }

    private static async Task<string> ForbiddenAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        return problem.RootElement.GetProperty("detail").GetString()!;
    }

    [Fact]
    public async Task The_evil_origin_text_plain_pause_is_refused_and_nothing_runs()
    {
        await using var service = await StartAsync(Secret);
        using var response = await service.Client.SendAsync(Post("/pause", secret: Secret, origin: "http://evil.example", contentType: "text/plain"));
        Assert.Contains("another origin", await ForbiddenAsync(response), StringComparison.Ordinal);
        Assert.Equal(0, service.ControlRuns);
    }

    [Fact]
    public async Task The_right_secret_from_a_local_caller_is_obeyed_and_the_wrong_or_missing_one_is_not()
    {
        await using var service = await StartAsync(Secret);
        using (var ok = await service.Client.SendAsync(Post("/pause", secret: Secret)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var missing = await service.Client.SendAsync(Post("/pause")))
        {
            Assert.Contains(ControlCallers.SecretHeader, await ForbiddenAsync(missing), StringComparison.Ordinal);
        }

        using (var wrong = await service.Client.SendAsync(Post("/pause", secret: Secret[..^1] + "0")))
        {
            Assert.Contains("does not match", await ForbiddenAsync(wrong), StringComparison.Ordinal);
        }

        using (var sameOrigin = await service.Client.SendAsync(Post("/pause", secret: Secret, origin: $"http://127.0.0.1:{service.Port}")))
        {
            Assert.Equal(HttpStatusCode.OK, sameOrigin.StatusCode);
        }

        Assert.Equal(2, service.ControlRuns);
    }

    [Fact]
    public async Task Without_a_configured_secret_control_endpoints_refuse_saying_how_to_configure_one()
    {
        await using var service = await StartAsync(secret: null);
        using var response = await service.Client.SendAsync(Post("/pause", secret: "anything-at-all-long-enough"));
        var detail = await ForbiddenAsync(response);
        Assert.Contains("no control secret is configured", detail, StringComparison.Ordinal);
        Assert.Contains(ControlSettings.Secret.EnvironmentVariable, detail, StringComparison.Ordinal);
        Assert.Equal(0, service.ControlRuns);

        // The user API needs no secret.
        using var tx = await service.Client.SendAsync(Post("/tx"));
        Assert.Equal(HttpStatusCode.OK, tx.StatusCode);
    }

    [Fact]
    public async Task A_too_short_secret_keeps_control_closed_and_the_explicit_opt_out_opens_it_to_local_callers()
    {
        await using (var weak = await StartAsync("short"))
        {
            using var response = await weak.Client.SendAsync(Post("/pause", secret: "short"));
            Assert.Contains("shorter than 16", await ForbiddenAsync(response), StringComparison.Ordinal);
        }

        await using var open = await StartAsync(ControlSettings.SecretOptOut);
        using (var ok = await open.Client.SendAsync(Post("/pause")))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // The local-caller checks still hold with the opt-out.
        using var evil = await open.Client.SendAsync(Post("/pause", origin: "http://evil.example"));
        await ForbiddenAsync(evil);
        Assert.Equal(1, open.ControlRuns);
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("localhost.evil.example")]
    [InlineData("127.0.0.1.nip.io")]
    [InlineData("2130706433")]
    [InlineData("10.0.0.1")]
    public async Task A_host_header_that_is_not_loopback_is_refused_dns_rebinding(string host)
    {
        await using var service = await StartAsync(Secret);
        using var control = await service.Client.SendAsync(Post("/pause", secret: Secret, host: $"{host}:{service.Port}"));
        Assert.Contains("Host header", await ForbiddenAsync(control), StringComparison.Ordinal);
        using var user = await service.Client.SendAsync(Post("/tx", host: $"{host}:{service.Port}"));
        await ForbiddenAsync(user);
        Assert.Equal(0, service.ControlRuns + service.LocalRuns);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("http://evil.example")]
    [InlineData("http://127.0.0.1")]
    [InlineData("https://127.0.0.1:1")]
    public async Task The_user_api_refuses_other_origins_too(string origin)
    {
        await using var service = await StartAsync(Secret);
        using var response = await service.Client.SendAsync(Post("/tx", origin: origin));
        await ForbiddenAsync(response);
        using var crossSite = Post("/tx");
        crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");
        await ForbiddenAsync(await service.Client.SendAsync(crossSite));
        Assert.Equal(0, service.LocalRuns);
    }

    [Fact]
    public async Task The_guard_holds_even_when_the_service_defaults_middleware_is_not_used()
    {
        await using var service = await StartAsync(Secret, useDefaults: false);
        using (var refused = await service.Client.SendAsync(Post("/pause", origin: "http://evil.example")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using (var ok = await service.Client.SendAsync(Post("/pause", secret: Secret)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        Assert.Equal(1, service.ControlRuns);
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.31.7.4", true)]
    [InlineData("[::1]", true)]
    [InlineData("::1", false)]
    [InlineData("127.1", false)]
    [InlineData("0x7f000001", false)]
    [InlineData("evil.example", false)]
    [InlineData("", false)]
    [InlineData("128.0.0.1", false)]
    [InlineData("[::ffff:10.0.0.1]", false)]
    public void Loopback_hosts_are_localhost_127_and_ipv6_loopback_only(string host, bool loopback) =>
        Assert.Equal(loopback, ControlCallers.IsLoopbackHost(host));

    [Fact]
    public void Fresh_secrets_are_long_random_and_distinct()
    {
        var a = ControlCallers.NewSecret();
        Assert.Equal(64, a.Length);
        Assert.True(a.Length >= ControlSettings.MinSecretLength);
        Assert.NotEqual(a, ControlCallers.NewSecret());
    }
}
