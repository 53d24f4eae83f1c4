using System.Text.Json;

namespace ServiceDefaults.Tests;

/// <summary>The error model every service gets from the service defaults: problem details, limits before work, no leaks.</summary>
[Collection(SharedListenerCollection.Name)]
public sealed class ErrorModelTests : IAsyncLifetime
{
    private readonly int _port = TestOtlpListener.FreeTcpPort();
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        // Development on purpose: the developer exception page must never be what answers.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        builder.WebHost.UseUrls($"http://127.0.0.1:{_port}");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>());
        builder.AddServiceDefaults();
        _app = builder.Build();
        _app.MapDefaultEndpoints();
        _app.MapGet("/boom", (HttpContext _) => throw new InvalidOperationException("secret internals at /src/Secret.cs"));
        _app.MapPost("/json", async (HttpContext http) =>
        {
            using var document = await RequestBodies.ReadJsonAsync(http, 64 * 1024, maxDepth: 8);
            var text = document.RootElement.TryGetProperty("text", out var value) ? RequestBodies.GetString(value, "text") : "";
            return Results.Json(new { length = text.Length });
        }).WithRequestBodyLimit(1024);
        _app.MapPost("/typed", (Payload payload) => Results.Json(payload));
        await _app.StartAsync();
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}") };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task An_unhandled_exception_is_a_plain_500_problem_even_in_development()
    {
        using var response = await _client.GetAsync("/boom");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(500, problem.RootElement.GetProperty("status").GetInt32());
        Assert.True(problem.RootElement.TryGetProperty("traceId", out _));
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", body, StringComparison.Ordinal);
        Assert.DoesNotContain("/src/", body, StringComparison.Ordinal);
        Assert.DoesNotContain("secret internals", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/alive")).StatusCode);
    }

    [Theory]
    [InlineData("GET", "/no-such-path", 404)]
    [InlineData("DELETE", "/json", 405)]
    public async Task Bare_error_statuses_get_a_problem_body(string method, string path, int status)
    {
        using var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(status, (int)response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_over_the_declared_limit_is_413_before_the_handler_reads_it(bool chunked)
    {
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(OversizedJsonRequest(chunked));
        }
        catch (HttpRequestException e) when (chunked && e.InnerException is IOException)
        {
            // The server stops reading a chunked body at the limit, answers and closes; a client still sending its last
            // chunk may see the connection reset before it reads the answer. That is a refusal too; the service stays healthy.
            Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health")).StatusCode);
            return;
        }

        using (response)
        {
            var problem = await ProblemAsync(response, 413);
            Assert.Contains("1024 bytes", problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_answer_to_a_body_left_unread_closes_the_connection_so_the_next_request_is_not_cut()
    {
        // Kestrel cannot drain a body over the limit and ends the connection after the answer; without Connection: close in
        // that answer, the client sent its next request on the dying connection now and then ("response ended prematurely").
        // With a Content-Length only: a chunked body is cut while the client is still sending it, which is HTTP, not a bug.
        for (var i = 0; i < 50; i++)
        {
            using (var response = await _client.SendAsync(OversizedJsonRequest(chunked: false)))
            {
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
                Assert.True(response.Headers.ConnectionClose, $"answer {i} to an unread body does not say Connection: close");
            }

            using var next = await _client.PostAsync("/json", new StringContent("""{"text":"x"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
            Assert.NotEqual(true, next.Headers.ConnectionClose);
        }
    }

    private static HttpRequestMessage OversizedJsonRequest(bool chunked)
    {
        var big = new string('a', 8 * 1024);
        var content = new StringContent($$"""{"text":"{{big}}"}""", Encoding.UTF8, "application/json");
        if (chunked)
        {
            content.Headers.ContentLength = null;
        }

        var request = new HttpRequestMessage(HttpMethod.Post, "/json") { Content = content };
        if (chunked)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        return request;
    }

    [Theory]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'t', (byte)'e', (byte)'x', (byte)'t', (byte)'"', (byte)':', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}' }, "UTF-8")]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'t', (byte)'e', (byte)'x', (byte)'t', (byte)'"', (byte)':', (byte)'"', 0xFF, (byte)'"', (byte)'}' }, "UTF-8")]
    public async Task Invalid_utf8_inside_a_json_string_is_400(byte[] body, string named)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var response = await _client.PostAsync("/json", content);
        Assert.Contains(named, await ProblemAsync(response, 400), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"text":"\ud800"}""", "surrogate")]
    [InlineData("""{"text":""", "not valid JSON")]
    [InlineData("""[[[[[[[[[[[[1]]]]]]]]]]]]""", "8 levels")]
    [InlineData("""{"text":12}""", "'text' must be a JSON string")]
    public async Task Bad_json_is_400_naming_the_problem(string json, string named)
    {
        using var response = await _client.PostAsync("/json", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Contains(named, await ProblemAsync(response, 400), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_non_json_content_type_is_415_and_an_empty_body_400()
    {
        using (var response = await _client.PostAsync("/json", new StringContent("""{"text":"x"}""", Encoding.UTF8, "text/plain")))
        {
            Assert.Contains("application/json", await ProblemAsync(response, 415), StringComparison.Ordinal);
        }

        using (var response = await _client.PostAsync("/json", null))
        {
            Assert.Contains("no body", await ProblemAsync(response, 400), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Framework_binding_errors_are_400_naming_the_parameter_in_development_too()
    {
        using var response = await _client.PostAsync("/typed", new StringContent("{\"count\": \"x\"", Encoding.UTF8, "application/json"));
        var detail = await ProblemAsync(response, 400);
        Assert.Contains("payload", detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_flood_of_bad_requests_leaves_the_service_healthy()
    {
        for (var i = 0; i < 50; i++)
        {
            using var content = new ByteArrayContent([.. "{\"text\":\""u8, (byte)(0x80 + i), .. "\"}"u8]);
            content.Headers.ContentType = new("application/json");
            using var response = await _client.PostAsync("/json", content);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health")).StatusCode);
    }

    private static async Task<string> ProblemAsync(HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        return problem.RootElement.GetProperty("detail").GetString()!;
    }

    private sealed record Payload(int Count);
}
