using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace ServiceDefaults.Tests;

/// <summary>
/// A poll (<see cref="TelemetryPolls"/>) makes no span at either end, while an ordinary request, and the work it starts,
/// is traced: one service with <c>AddServiceDefaults</c> plays both the poller (its instrumented HttpClient) and the polled.
/// </summary>
[Collection(SharedListenerCollection.Name)]
public sealed class PollTelemetryTests : IAsyncLifetime
{
    private static readonly ActivitySource Source = new("Testbed.ServiceDefaults.PollTests");
    private readonly ConcurrentQueue<Activity> _ended = new();
    private WebApplication _app = null!;
    private HttpClient _instrumented = null!;
    private HttpClient _plain = null!;

    public async Task InitializeAsync()
    {
        var port = TestOtlpListener.FreeTcpPort();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_SERVICE_NAME"] = "poll-test" });
        builder.AddServiceDefaults();
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(new Collector(_ended)));
        builder.Services.AddHttpClient("peer", c => c.BaseAddress = new Uri($"http://127.0.0.1:{port}"));
        _app = builder.Build();
        _app.MapDefaultEndpoints();
        _app.MapGet("/status", () => Results.Json(new { height = 1 }));
        _app.MapPost("/mining", () =>
        {
            // Real work the request starts: a span of a Testbed.* source, child of the request's server span.
            using var work = Source.StartActivity("block.produce");
            return Results.Json(new { mined = 1 });
        });
        await _app.StartAsync();
        _instrumented = _app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("peer");
        _plain = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public async Task DisposeAsync()
    {
        _plain.Dispose();
        _instrumented.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task An_ordinary_request_is_traced_at_both_ends_with_the_work_it_starts()
    {
        using var response = await _instrumented.PostAsync("/mining", null);
        response.EnsureSuccessStatusCode();

        var server = await WaitForAsync(a => a.Kind == ActivityKind.Server && Route(a) == "/mining");
        var client = Assert.Single(Ended(a => a.Kind == ActivityKind.Client && a.TraceId == server.TraceId));
        Assert.Equal(client.SpanId, server.ParentSpanId);
        var work = Assert.Single(Ended(a => a.DisplayName == "block.produce" && a.TraceId == server.TraceId));
        Assert.Equal(server.SpanId, work.ParentSpanId);
    }

    [Fact]
    public async Task A_poll_makes_no_span_at_either_end_even_inside_a_traced_operation()
    {
        string parentTrace;
        using (var scenario = Source.StartActivity("scenario.run"))
        {
            Assert.NotNull(scenario);
            parentTrace = scenario.TraceId.ToString();
            using (TelemetryPolls.Begin())
            {
                Assert.True(TelemetryPolls.IsPolling);
                Assert.Null(Activity.Current);
                using var request = TelemetryPolls.MarkIfPolling(new HttpRequestMessage(HttpMethod.Get, "/status"));
                using var poll = await _instrumented.SendAsync(request);
                poll.EnsureSuccessStatusCode();
            }

            // The poll scope ends, the operation's context is back, and a real request in it is traced again.
            Assert.False(TelemetryPolls.IsPolling);
            Assert.Same(scenario, Activity.Current);
            using var mining = await _instrumented.PostAsync("/mining", null);
            mining.EnsureSuccessStatusCode();
        }

        // The request after the poll went over the same connection, so its server span ends after the poll's would have.
        var sentinel = await WaitForAsync(a => a.Kind == ActivityKind.Server && Route(a) == "/mining");
        Assert.Equal(parentTrace, sentinel.TraceId.ToString());
        Assert.Empty(Ended(a => Route(a) == "/status" || Url(a)?.EndsWith("/status", StringComparison.Ordinal) == true));
        // The operation's trace holds the operation, the request to /mining (client, server) and its work: nothing of the poll.
        Assert.Equal(
            ["POST", "POST /mining", "block.produce", "scenario.run"],
            Ended(a => a.TraceId.ToString() == parentTrace).Select(a => a.DisplayName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_server_drops_marked_requests_and_health_probes_from_any_client()
    {
        // A client without OpenTelemetry (another language, curl) marks its poll with the header only.
        using (var request = TelemetryPolls.Mark(new HttpRequestMessage(HttpMethod.Get, "/status")))
        {
            (await _plain.SendAsync(request)).EnsureSuccessStatusCode();
        }

        (await _plain.GetAsync("/health")).EnsureSuccessStatusCode();
        (await _plain.GetAsync("/alive")).EnsureSuccessStatusCode();
        (await _plain.GetAsync("/status")).EnsureSuccessStatusCode();

        var unmarked = await WaitForAsync(a => a.Kind == ActivityKind.Server && Route(a) == "/status");
        // The same connection served them in order, so the earlier requests' spans would have ended before this one.
        Assert.Same(unmarked, Assert.Single(Ended(a => a.Kind == ActivityKind.Server)));
    }

    [Fact]
    public async Task The_poll_scope_alone_keeps_the_client_span_out_and_its_context_out_of_the_request()
    {
        using (var scenario = Source.StartActivity("scenario.run"))
        {
            Assert.NotNull(scenario);
            using (TelemetryPolls.Begin())
            {
                // Not marked: the server traces it, but as a root of its own, not as part of the operation's trace.
                (await _instrumented.GetAsync("/status")).EnsureSuccessStatusCode();
            }
        }

        var server = await WaitForAsync(a => a.Kind == ActivityKind.Server && Route(a) == "/status");
        Assert.Null(server.ParentId);
        Assert.Empty(Ended(a => a.Kind == ActivityKind.Client));
    }

    private static string? Route(Activity activity) => activity.GetTagItem("url.path") as string;

    private static string? Url(Activity activity) => activity.GetTagItem("url.full") as string;

    private Activity[] Ended(Func<Activity, bool> predicate) => _ended.Where(predicate).ToArray();

    private async Task<Activity> WaitForAsync(Func<Activity, bool> predicate)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_ended.FirstOrDefault(predicate) is { } found)
            {
                return found;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30),
                "Timed out waiting for a span; ended: " + string.Join(", ", _ended.Select(a => $"{a.Kind} {a.DisplayName}")));
            await Task.Delay(20);
        }
    }

    /// <summary>Collects every ended, recorded span (what an exporter would be handed), thread-safely.</summary>
    private sealed class Collector(ConcurrentQueue<Activity> ended) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            if (data.Recorded)
            {
                ended.Enqueue(data);
            }
        }
    }
}
