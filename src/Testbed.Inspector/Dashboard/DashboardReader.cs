using Microsoft.Extensions.Diagnostics.HealthChecks;
using Testbed.Inspector.Hosting;
using Testbed.Inspector.Telemetry;

namespace Testbed.Inspector.Dashboard;

/// <summary>How the reading of the dashboard goes, for <c>/api/status</c>, the UI and the health check.</summary>
/// <param name="State">connecting (never reached yet), connected (the span stream is open) or unreachable.</param>
/// <param name="Error">"dashboard unreachable: reason" while not connected after a failure; null when connected.</param>
/// <param name="LastSuccessfulReadUtc">The last time the dashboard answered as it should (stream opened, a line read, a probe).</param>
public sealed record DashboardStatus(
    string DashboardUrl,
    string DashboardBrowserUrl,
    string State,
    bool Reachable,
    string? Error,
    DateTimeOffset? LastSuccessfulReadUtc,
    DateTimeOffset? LastSpanUtc,
    DateTimeOffset? ConnectedSinceUtc,
    DateTimeOffset? NextAttemptUtc,
    long Connects,
    long Failures,
    long StreamLines,
    long MalformedLines,
    long OversizedLines,
    long RejectedSpans,
    string? LastStreamProblem);

/// <summary>
/// Reads the dashboard for as long as the inspector runs: follows <c>/api/telemetry/spans?follow=true</c> (the spans the
/// dashboard holds, then each new one) into the <see cref="SpanStore"/>, probes the dashboard every
/// <see cref="InspectorOptions.ProbeInterval"/> while the stream is open (a quiet stream and a hung dashboard look alike),
/// and after any failure records "dashboard unreachable: reason" and tries again with a doubling delay from
/// <see cref="InspectorOptions.MinRetryDelay"/> to <see cref="InspectorOptions.MaxRetryDelay"/>. A restarted dashboard
/// replays what it holds; spans already held are not added twice. Nothing here ends the inspector.
/// </summary>
public sealed class DashboardReader(TelemetryApiClient client, SpanStore store, InspectorOptions options, ILogger<DashboardReader> logger)
    : BackgroundService, IHealthCheck
{
    private readonly Lock _gate = new();
    private string _state = "connecting";
    private string? _error;
    private DateTimeOffset? _lastRead;
    private DateTimeOffset? _lastSpan;
    private DateTimeOffset? _connectedSince;
    private DateTimeOffset? _nextAttempt;
    private long _connects;
    private long _failures;
    private StreamProgress _progress = new(0, 0, 0, 0, null);
    private StreamProgress _totals = new(0, 0, 0, 0, null);
    private bool _attemptConnected;
    private DateTimeOffset _attemptStarted;

    /// <summary>The current status.</summary>
    public DashboardStatus Status()
    {
        lock (_gate)
        {
            var totals = Sum(_totals, _progress);
            return new DashboardStatus(options.DashboardUri.ToString().TrimEnd('/'), options.BrowserUri.ToString().TrimEnd('/'), _state,
                _state == "connected", _error, _lastRead, _lastSpan, _connectedSince, _nextAttempt, _connects, _failures,
                totals.Lines, totals.MalformedLines, totals.OversizedLines, totals.RejectedSpans, totals.LastProblem);
        }
    }

    /// <summary>Healthy while the stream is open; Degraded (never Unhealthy: the inspector still serves what it holds) otherwise.</summary>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = Status();
        return Task.FromResult(status.Reachable
            ? HealthCheckResult.Healthy($"reading spans from {status.DashboardUrl}")
            : HealthCheckResult.Degraded(status.Error ?? $"connecting to {status.DashboardUrl}"));
    }

    /// <summary>Records a successful answer of the dashboard outside the stream (a trace fetched on demand).</summary>
    internal void MarkRead()
    {
        lock (_gate)
        {
            _lastRead = DateTimeOffset.UtcNow;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = options.MinRetryDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            BeginAttempt();
            string? failure = null;
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                var probing = ProbeAsync(attempt);
                try
                {
                    await client.FollowSpansAsync(
                        Connected,
                        OnBatch,
                        progress => { lock (_gate) { _progress = progress; _lastRead = DateTimeOffset.UtcNow; } },
                        attempt.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (OperationCanceledException)
                {
                    // The probe found the dashboard gone and cancelled the stream; it recorded why.
                }
                catch (Exception e) when (e is DashboardUnavailableException or TelemetryFormatException)
                {
                    failure = e.Message;
                }
#pragma warning disable CA1031 // The reader must outlive anything the dashboard does; the reason is shown and logged.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    logger.LogError(e, "Unexpected failure reading the dashboard at {Url}", options.DashboardUri);
                    failure = $"unexpected {e.GetType().Name}: {e.Message}";
                }
                finally
                {
                    await attempt.CancelAsync().ConfigureAwait(false);
                    await probing.ConfigureAwait(false);
                }
            }

            // Recorded once the probes have stopped, so none of them can mark the dashboard reachable after this.
            if (failure is not null)
            {
                Fail(failure);
            }

            lock (_gate)
            {
                // After a connection that held a while, try again soon; one that keeps breaking at once backs off as a failure does.
                if (_attemptConnected && DateTimeOffset.UtcNow - _attemptStarted >= options.MaxRetryDelay)
                {
                    delay = options.MinRetryDelay;
                }

                _nextAttempt = DateTimeOffset.UtcNow + delay;
            }

            try
            {
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxRetryDelay.Ticks));
        }
    }

    /// <summary>The dashboard answered (the stream opened, or a probe succeeded): connected, unless already.</summary>
    private void Connected()
    {
        lock (_gate)
        {
            _lastRead = DateTimeOffset.UtcNow;
            _attemptConnected = true;
            if (_state == "connected")
            {
                return;
            }

            _state = "connected";
            _error = null;
            _connects++;
            _connectedSince = _lastRead;
            _nextAttempt = null;
            logger.LogInformation("Reading spans from the dashboard at {Url}", options.DashboardUri);
        }
    }

    /// <summary>A new attempt: its stream counts start from zero (the totals keep the earlier attempts').</summary>
    private void BeginAttempt()
    {
        lock (_gate)
        {
            _attemptConnected = false;
            _attemptStarted = DateTimeOffset.UtcNow;
            _totals = Sum(_totals, _progress);
            _progress = new StreamProgress(0, 0, 0, 0, _totals.LastProblem);
        }
    }

    private void OnBatch(SpanBatch batch)
    {
        if (batch.Spans.Count == 0)
        {
            return;
        }

        store.Add(batch.Spans);
        lock (_gate)
        {
            _lastSpan = DateTimeOffset.UtcNow;
        }
    }

    private void Fail(string reason)
    {
        var error = "dashboard unreachable: " + reason;
        lock (_gate)
        {
            if (_error != error)
            {
                logger.LogWarning("The dashboard at {Url} cannot be read: {Reason}", options.DashboardUri, reason);
            }

            _state = "unreachable";
            _error = error;
            _connectedSince = null;
            _failures++;
        }
    }

    /// <summary>
    /// Probes while an attempt lasts; on a failure records it and cancels the attempt, so the stream is reopened. Never
    /// throws: whatever a probe ends in once the attempt is over (the stream failed first) is no news.
    /// </summary>
    private async Task ProbeAsync(CancellationTokenSource attempt)
    {
        var token = attempt.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await client.ProbeAsync(token).ConfigureAwait(false);
                Connected();
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DashboardUnavailableException or TelemetryFormatException)
            {
                Fail(e.Message);
                await attempt.CancelAsync().ConfigureAwait(false);
                return;
            }
#pragma warning disable CA1031 // As the stream: the reason is shown and logged, the reader goes on.
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogError(e, "Unexpected failure probing the dashboard at {Url}", options.DashboardUri);
                Fail($"unexpected {e.GetType().Name}: {e.Message}");
                await attempt.CancelAsync().ConfigureAwait(false);
                return;
            }

            try
            {
                await Task.Delay(options.ProbeInterval, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static StreamProgress Sum(StreamProgress a, StreamProgress b) =>
        new(a.Lines + b.Lines, a.MalformedLines + b.MalformedLines, a.OversizedLines + b.OversizedLines, a.RejectedSpans + b.RejectedSpans, b.LastProblem ?? a.LastProblem);
}
