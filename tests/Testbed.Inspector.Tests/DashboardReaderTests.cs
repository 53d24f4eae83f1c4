using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Testbed.Inspector.Tests;

/// <summary>The reader over canned dashboards: it never ends on a failure, reports it, retries, and reads again when it can.</summary>
public sealed class DashboardReaderTests
{
    [Fact]
    public async Task Refusals_and_surprises_are_reported_never_thrown_and_reading_resumes()
    {
        using var peers = SyntheticPeers.InMemory(2);
        peers.EmitBlock(3, "0003", DateTime.UtcNow, "aa");
        var lines = string.Join("\n", DashboardJson.StreamLines(peers.Exported)) + "\n";
        var mode = "refuse";
        var handler = new Handler(request =>
        {
            var follow = request.RequestUri!.Query.Contains("follow=true", StringComparison.Ordinal);
            return Volatile.Read(ref mode) switch
            {
                "refuse" => new HttpResponseMessage(HttpStatusCode.Unauthorized),
                "throw" => throw new InvalidOperationException("a handler bug"),
                _ => follow
                    ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(lines, Encoding.UTF8, "application/x-ndjson") }
                    : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("[]", Encoding.UTF8, "application/json") },
            };
        });
        var options = TelemetryApiClientTests.Options("http://dashboard.test:18888");
        options.MinRetryDelay = TimeSpan.FromMilliseconds(20);
        options.MaxRetryDelay = TimeSpan.FromMilliseconds(100);
        options.ProbeInterval = TimeSpan.FromMilliseconds(50);
        using var client = new TelemetryApiClient(options, handler);
        var store = new SpanStore(100, 1_000, 100);
        using var reader = new DashboardReader(client, store, options, NullLogger<DashboardReader>.Instance);
        await reader.StartAsync(CancellationToken.None);
        try
        {
            var refused = await Eventually.GetAsync(() => Task.FromResult(reader.Status()), s => s.Failures >= 3, "repeated refusals");
            Assert.Equal("unreachable", refused.State);
            Assert.StartsWith("dashboard unreachable: HTTP 401 Unauthorized from /api/telemetry/", refused.Error, StringComparison.Ordinal);
            Assert.Equal(HealthStatus.Degraded, (await reader.CheckHealthAsync(new HealthCheckContext())).Status);

            Volatile.Write(ref mode, "throw");
            var surprised = await Eventually.GetAsync(() => Task.FromResult(reader.Status()), s => s.Error?.Contains("a handler bug", StringComparison.Ordinal) == true, "the unexpected failure reported");
            Assert.False(surprised.Reachable);

            // The stream ends after each replay: every reconnect replays the same spans, which are held once.
            Volatile.Write(ref mode, "serve");
            await Eventually.GetAsync(() => Task.FromResult(store.Counts()), c => c.Duplicates > 0, "a replay after a reconnect");
            Assert.Equal(11, store.Counts().Spans);
            Assert.False(reader.ExecuteTask!.IsCompleted);
            Assert.True(reader.Status().Connects >= 1);
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await reader.StopAsync(stop.Token);
        }

        Assert.True(reader.ExecuteTask!.IsCompletedSuccessfully);
    }

    private sealed class Handler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }
}
